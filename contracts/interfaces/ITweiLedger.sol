// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title ITweiLedger
/// @notice Settles batches of reward actions for publishing sites. The ledger holds the
/// public rule set (an amount per action kind), the site registry, the post registry, the
/// set of settled batch ids and the emission caps per epoch.
///
/// Action kinds, in the order of the PnL report:
///  0 Read-to-Earn (mint to reader, units = basis points of the post read)
///  1 Earned for Pluses (mint to post author)      2 Comment Rewards (mint to commenter)
///  3 Likes Own (mint to liker)                    4 Likes Commenter (mint to comment author)
///  5 Likes Author (mint to post author)           6 Dislikes Author (mint to post author)
///  7 Spent for Minuses (burn from voter)          8 Comment Tributes (burn from commenter)
///  9 Dislikes Own (burn from disliker)           10 Dislikes Commenter (burn from comment author)
/// 11 Post Publish Tribute (burn from author)     12 PnL Reports (burn from buyer; the report price)
///
/// Packed actions, as passed to {settle} and echoed in {BatchSettled}:
///   postCount:uint16, postCount x (postId:uint64, author:address)   the posts this batch registers
///   refCount:uint16, refCount x postId:uint64                       the posts its actions refer to
///   accountCount:uint16, accountCount x (account:address, its actions)  one group per account
///   an action: kind:uint8 | last << 7, units:uint16, postRef:uint8      postRef indexes the refs;
///              `last` is set on the last action of its group
/// All integers are big-endian; at most 256 post references. Each account's actions are
/// applied together, so each account is credited once per batch (an account given several
/// groups is credited once per group). Its burns are paid whole, in order, while they fit both
/// its allowance to the ledger and its balance with all of the batch's mints to it; a burn that
/// does not fit is skipped and recorded as a {BurnShortfall}.
interface ITweiLedger {
    /// @notice An emission usage record: how much was minted in an epoch.
    struct EpochUsage {
        uint64 epoch;
        uint192 minted;
    }

    /// @notice A registered site: the key that signs its event envelopes, and its budget.
    struct Site {
        address signer;
        bool active;
        uint128 epochCap;
    }

    /// @notice A registered post.
    struct Post {
        address author;
        uint32 siteId;
    }

    // ---------------------------------------------------------------- errors

    /// @notice The batch id was settled before.
    error TweiLedgerBatchAlreadySettled(uint64 batchId);
    /// @notice The site id is not in the registry.
    error TweiLedgerUnknownSite(uint32 siteId);
    /// @notice The site id is registered already.
    error TweiLedgerSiteAlreadyRegistered(uint32 siteId);
    /// @notice The site is deactivated, so its batches cannot settle.
    error TweiLedgerSiteInactive(uint32 siteId);
    /// @notice A signer, author or account was the zero address.
    error TweiLedgerZeroAddress();
    /// @notice The packed actions end early or run long, at `offset`.
    error TweiLedgerMalformedActions(uint256 offset);
    /// @notice An action names a kind outside 0..12.
    error TweiLedgerUnknownKind(uint256 actionIndex, uint256 kind);
    /// @notice An action's units are out of range (0, or above 10,000 basis points for Read-to-Earn).
    error TweiLedgerInvalidUnits(uint256 actionIndex, uint256 units);
    /// @notice A batch refers to a post that is not registered.
    error TweiLedgerUnknownPost(uint64 postId);
    /// @notice A batch refers to more than 256 posts.
    error TweiLedgerTooManyPostRefs(uint256 refCount);
    /// @notice An action's post reference is past the batch's references.
    error TweiLedgerUnknownPostRef(uint256 actionIndex, uint256 postRef);
    /// @notice The post id is registered already.
    error TweiLedgerPostAlreadyRegistered(uint64 postId);
    /// @notice A batch refers to a post of another site than the batch's.
    error TweiLedgerPostOfOtherSite(uint64 postId, uint32 postSiteId, uint32 batchSiteId);
    /// @notice An author-directed action names an account that is not the post's author.
    error TweiLedgerNotPostAuthor(uint64 postId, address account, address author);
    /// @notice The post's author cannot read, plus or minus their own post for Twei.
    error TweiLedgerSelfAction(uint256 actionIndex, uint64 postId, address author);
    /// @notice Settling would mint more than the overall cap of the epoch.
    error TweiLedgerEmissionCapExceeded(uint64 epoch, uint256 cap, uint256 requested);
    /// @notice Settling would mint more than the site's cap of the epoch.
    error TweiLedgerSiteEmissionCapExceeded(uint32 siteId, uint64 epoch, uint256 cap, uint256 requested);
    /// @notice A rule amount is 2**88 wei or more (about 3 * 10**8 Twei), which the ledger's
    /// 128-bit per-account sums could not hold.
    error TweiLedgerRuleAmountTooLarge(uint256 kind, uint256 amount);
    /// @notice The epoch length given at construction was zero.
    error TweiLedgerInvalidEpochLength();
    /// @notice The token was not deployed for this ledger.
    error TweiLedgerTokenMismatch(address token, address tokenLedger);

    // ---------------------------------------------------------------- events

    /// @notice The rule set changed; `version` counts the changes from 1.
    /// @param amounts The amount per action kind, in wei of Twei (per unit, or per full read).
    event RuleSetUpdated(uint32 indexed version, uint128[13] amounts);
    /// @notice The overall emission cap per epoch changed.
    event EmissionCapUpdated(uint128 previousCap, uint128 newCap);
    /// @notice A site was added to the registry, active.
    event SiteRegistered(uint32 indexed siteId, address indexed signer, uint128 epochCap);
    /// @notice A site's signer key changed.
    event SiteSignerUpdated(uint32 indexed siteId, address indexed previousSigner, address indexed newSigner);
    /// @notice A site was activated or deactivated.
    event SiteActivationUpdated(uint32 indexed siteId, bool active);
    /// @notice A site's emission cap per epoch changed.
    event SiteEmissionCapUpdated(uint32 indexed siteId, uint128 previousCap, uint128 newCap);
    /// @notice A post was registered with its site and author, in batch `batchId`.
    event PostRegistered(uint64 indexed postId, uint32 indexed siteId, address indexed author, uint64 batchId);
    /// @notice A burn could not be paid (balance or allowance too low) and was skipped.
    /// @param actionIndex The action's position among the batch's actions, from 0.
    event BurnShortfall(
        uint64 indexed batchId,
        address indexed account,
        uint256 actionIndex,
        uint8 kind,
        uint64 postId,
        uint256 amount
    );
    /// @notice A batch settled. `actions` is the packed actions exactly as settled; with the
    /// rule set of `ruleSetVersion` and the batch's {BurnShortfall} events it gives every
    /// action's amount and outcome.
    event BatchSettled(
        uint64 indexed batchId,
        uint32 indexed siteId,
        bytes32 evidenceRoot,
        uint32 ruleSetVersion,
        uint256 minted,
        uint256 burned,
        bytes actions
    );

    // ---------------------------------------------------------------- settlement

    /// @notice Settles a batch of one site's actions: registers its posts, mints and burns.
    /// @dev Only the relayer role, while not paused. Reverts on a settled batch id, an
    /// inactive site, malformed actions or a cap overrun; an unpayable burn does not revert.
    /// @param batchId A batch id never settled before.
    /// @param siteId The site whose signed events the batch settles.
    /// @param evidenceRoot The merkle root of the batch's signed site events.
    /// @param actions The packed actions (see the interface's documentation).
    function settle(uint64 batchId, uint32 siteId, bytes32 evidenceRoot, bytes calldata actions) external;

    // ---------------------------------------------------------------- policy

    /// @notice Replaces the rule set (policy admin).
    /// @dev Also writes the settlement loop's words for it into a new data contract's code, which
    /// `settle` copies in two reads instead of reading 7 storage slots.
    /// @param amounts The amount per action kind, in wei of Twei, each below 2**88.
    function setRuleSet(uint128[13] calldata amounts) external;

    /// @notice Sets the overall emission cap per epoch (policy admin).
    function setEmissionCap(uint128 newCap) external;

    /// @notice Registers a site, active (policy admin).
    function registerSite(uint32 siteId, address signer, uint128 epochCap) external;

    /// @notice Changes a site's signer key (policy admin).
    function setSiteSigner(uint32 siteId, address signer) external;

    /// @notice Activates or deactivates a site (policy admin).
    function setSiteActive(uint32 siteId, bool active) external;

    /// @notice Sets a site's emission cap per epoch (policy admin).
    function setSiteEmissionCap(uint32 siteId, uint128 newCap) external;

    /// @notice Stops settlement (pauser).
    function pause() external;

    /// @notice Resumes settlement (pauser).
    function unpause() external;

    // ---------------------------------------------------------------- views

    /// @notice The Twei token this ledger mints and burns.
    function token() external view returns (address);

    /// @notice The rule set in force and its version.
    function ruleSet() external view returns (uint32 version, uint128[13] memory amounts);

    /// @notice What an action of `kind` with `units` moves under the rule set in force.
    function amountFor(uint8 kind, uint16 units) external view returns (uint256);

    /// @notice The price of one PnL report instance (the amount of kind 12).
    function reportPrice() external view returns (uint256);

    /// @notice The length of an emission epoch, in seconds.
    function epochLength() external view returns (uint64);

    /// @notice The current emission epoch.
    function currentEpoch() external view returns (uint64);

    /// @notice The overall emission cap per epoch.
    function emissionCap() external view returns (uint128);

    /// @notice What was minted in the current epoch, overall.
    function epochMinted() external view returns (uint256);

    /// @notice A site's registry entry (zero signer when unknown).
    function site(uint32 siteId) external view returns (Site memory);

    /// @notice What was minted in the current epoch for a site.
    function siteEpochMinted(uint32 siteId) external view returns (uint256);

    /// @notice A post's registry entry (zero author when unknown).
    function post(uint64 postId) external view returns (Post memory);

    /// @notice Whether a batch id has settled.
    function isBatchSettled(uint64 batchId) external view returns (bool);
}
