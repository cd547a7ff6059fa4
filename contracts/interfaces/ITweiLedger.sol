// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title ITweiLedger
/// @notice Settles batches of reward actions for publishing sites. The ledger holds the
/// public rule set (an amount and a unit bound per action kind), the site registry, the post
/// registry, the set of settled batch ids and the emission caps (mints and burns, overall and per
/// site) per epoch.
///
/// Bounded damage. Whoever holds the relayer key can only settle actions the rule set prices,
/// within each kind's unit bound, and within the caps; the caps are counted over a sliding
/// window (see {settle}). Rule-set and cap changes are scheduled: announced by an event with the
/// time they take effect, at least {changeDelay} seconds later, and readable before then
/// ({ruleSchedule}, {emissionCaps}, {siteCaps}). A batch names the rule-set version it was priced
/// under: the version in force, or the one it replaced during {ruleSetGrace} seconds after the
/// switch, so a batch accepted before a change settles at the prices announced when it was
/// accepted. The default admin role moves in two steps with a delay
/// (OpenZeppelin's {AccessControlDefaultAdminRules}).
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
    /// @notice What the ledger is deployed with.
    /// @param admin The default admin (grants and revokes the other roles; moves in two steps).
    /// @param policyAdmin Gets the policy admin role (rule sets, caps, site registry).
    /// @param pauser Gets the pauser role (a hot key, e.g. the watchtower's: it can only stop).
    /// @param unpauser Gets the unpauser role (an admin-held key: a stolen pauser key cannot lift
    /// a pause it did not set, nor one set during an incident).
    /// @param relayer Gets the relayer role (the zero address: none yet).
    /// @param adminDelay The delay of a default admin transfer, in seconds.
    /// @param changeDelay The least time between announcing a rule-set or cap change and its
    /// taking effect, in seconds (0 only makes sense on a local dev chain).
    /// @param ruleSetGrace How long after a switch batches priced under the replaced rule set
    /// still settle at its prices, in seconds.
    /// @param epochLength The length of an emission epoch, in seconds.
    /// @param mintCap The overall cap on what is minted per epoch (sliding window, see {settle}).
    /// @param burnCap The overall cap on what is burned per epoch (sliding window).
    /// @param amounts The first rule set (version 1), in force from deployment.
    /// @param maxUnits Its unit bound per kind.
    struct Config {
        address admin;
        address policyAdmin;
        address pauser;
        address unpauser;
        address relayer;
        uint48 adminDelay;
        uint48 changeDelay;
        uint48 ruleSetGrace;
        uint64 epochLength;
        uint128 mintCap;
        uint128 burnCap;
        uint128[13] amounts;
        uint16[13] maxUnits;
    }

    /// @notice A registered site as in force now: the key that signs its event envelopes, and
    /// its caps per epoch.
    struct Site {
        address signer;
        bool active;
        uint128 mintCap;
        uint128 burnCap;
    }

    /// @notice A registered post.
    struct Post {
        address author;
        uint32 siteId;
    }

    /// @notice A rule set: its version, when it takes (or took) effect, its amount per kind (wei
    /// of Twei per unit; Read-to-Earn: per full read) and its unit bound per kind.
    struct RuleSet {
        uint32 version;
        uint64 effectiveAt;
        uint128[13] amounts;
        uint16[13] maxUnits;
    }

    /// @notice Caps in force and the change scheduled for them (`scheduledAt` 0: none).
    struct CapsSchedule {
        uint128 mintCap;
        uint128 burnCap;
        uint128 scheduledMintCap;
        uint128 scheduledBurnCap;
        uint64 scheduledAt;
    }

    /// @notice A site's policy (the rules' thresholds the relayer applies to its events, a JSON
    /// document published beside the evidence) by the keccak256 of its canonical form: the hash
    /// in force and the one announced for `scheduledAt` (0: none).
    struct PolicySchedule {
        bytes32 policyHash;
        bytes32 scheduledPolicyHash;
        uint64 scheduledAt;
    }

    /// @notice What the current window holds and what room is left, for mints and for burns.
    /// `minted` and `burned` are this epoch's; `mintRoom` and `burnRoom` are what a batch could
    /// still mint and burn now (the cap less this epoch's and the previous epoch's weighted share).
    struct Usage {
        uint64 epoch;
        uint256 minted;
        uint256 burned;
        uint256 mintRoom;
        uint256 burnRoom;
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
    /// @notice A signer, author, account or role holder was the zero address.
    error TweiLedgerZeroAddress();
    /// @notice The packed actions end early or run long, at `offset`.
    error TweiLedgerMalformedActions(uint256 offset);
    /// @notice An action names a kind outside 0..12.
    error TweiLedgerUnknownKind(uint256 actionIndex, uint256 kind);
    /// @notice An action's units are 0 or above its kind's bound in the rule set the batch is
    /// priced under (by default 10,000 basis points for Read-to-Earn and 1 for every other kind).
    error TweiLedgerUnitsOutOfBounds(uint256 actionIndex, uint256 kind, uint256 units, uint256 maxUnits);
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
    /// @notice Settling would mint more than the overall cap allows: `requested` is this epoch's
    /// mints with the batch's, plus the previous epoch's mints weighted by the part of this epoch
    /// still to run.
    error TweiLedgerEmissionCapExceeded(uint64 epoch, uint256 cap, uint256 requested);
    /// @notice Settling would mint more than the site's cap allows (`requested` as above).
    error TweiLedgerSiteEmissionCapExceeded(uint32 siteId, uint64 epoch, uint256 cap, uint256 requested);
    /// @notice Settling would burn more than the overall burn cap allows (`requested` as above).
    error TweiLedgerBurnCapExceeded(uint64 epoch, uint256 cap, uint256 requested);
    /// @notice Settling would burn more than the site's burn cap allows (`requested` as above).
    error TweiLedgerSiteBurnCapExceeded(uint32 siteId, uint64 epoch, uint256 cap, uint256 requested);
    /// @notice The batch names a rule-set version that is not in force: neither the current one
    /// nor, within the grace after the switch, the one it replaced.
    /// @param graceEndsAt When the replaced version stopped being honoured (0: none replaced).
    error TweiLedgerRuleSetNotInForce(uint32 version, uint32 currentVersion, uint32 previousVersion, uint64 graceEndsAt);
    /// @notice A rule amount is 2**88 wei or more (about 3 * 10**8 Twei), which the ledger's
    /// 128-bit per-account sums could not hold.
    error TweiLedgerRuleAmountTooLarge(uint256 kind, uint256 amount);
    /// @notice A unit bound is out of range: Read-to-Earn's units are basis points of a full read,
    /// so its bound is at most 10,000.
    error TweiLedgerUnitBoundTooLarge(uint256 kind, uint256 maxUnits);
    /// @notice A cap is above the largest the usage records hold (2**104 - 1 wei).
    error TweiLedgerCapTooLarge(uint256 cap, uint256 max);
    /// @notice A site's policy hash cannot be zero (zero means: no policy committed).
    error TweiLedgerZeroPolicyHash(uint32 siteId);
    /// @notice The epoch length given at construction was zero.
    error TweiLedgerInvalidEpochLength();
    /// @notice The token was not deployed for this ledger.
    error TweiLedgerTokenMismatch(address token, address tokenLedger);
    /// @notice The post id is not registered, so there is nothing to release.
    error TweiLedgerPostNotRegistered(uint64 postId);

    // ---------------------------------------------------------------- events

    /// @notice A rule set was announced: version `version` takes effect at `effectiveAt` (a unix
    /// time; at once when it is the block's). Versions count the announcements from 1; one
    /// announced while another waits replaces it (the waiting one never takes effect).
    /// @param amounts The amount per action kind, in wei of Twei (per unit, or per full read).
    /// @param maxUnits The most units one action of each kind may carry.
    event RuleSetScheduled(uint32 indexed version, uint64 effectiveAt, uint128[13] amounts, uint16[13] maxUnits);
    /// @notice The overall caps per epoch were announced, taking effect at `effectiveAt`.
    event EmissionCapsScheduled(uint64 effectiveAt, uint128 mintCap, uint128 burnCap);
    /// @notice A site was added to the registry, active, with its caps in force at once.
    event SiteRegistered(uint32 indexed siteId, address indexed signer, uint128 mintCap, uint128 burnCap);
    /// @notice A site's signer key changed.
    event SiteSignerUpdated(uint32 indexed siteId, address indexed previousSigner, address indexed newSigner);
    /// @notice A site was activated or deactivated.
    event SiteActivationUpdated(uint32 indexed siteId, bool active);
    /// @notice A site's caps per epoch were announced, taking effect at `effectiveAt`.
    event SiteCapsScheduled(uint32 indexed siteId, uint64 effectiveAt, uint128 mintCap, uint128 burnCap);
    /// @notice A site's policy hash was announced, in force from `effectiveAt` (at once for the
    /// site's first policy, {changeDelay} later for a change).
    event PolicyScheduled(uint32 indexed siteId, bytes32 indexed policyHash, uint64 effectiveAt);
    /// @notice A post was registered with its site and author, in batch `batchId`.
    event PostRegistered(uint64 indexed postId, uint32 indexed siteId, address indexed author, uint64 batchId);
    /// @notice The policy admin released a post id's registration (one a stolen relayer key
    /// squatted, with an author of its choosing): the id is unregistered again, so its real post
    /// registers it in a later batch. Batches settled before stay as they were.
    event PostReleased(uint64 indexed postId, uint32 indexed siteId, address indexed author);
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
    /// inactive site, a rule-set version not in force, malformed actions, units above their
    /// kind's bound, or a cap overrun; an unpayable burn does not revert.
    ///
    /// Caps (mints and burns, overall and the site's) are counted over a sliding window: a batch
    /// fits when this epoch's total with it, plus the previous epoch's total times the part of
    /// this epoch still to run, is within the cap. So one epoch never holds more than the cap,
    /// and an interval that ends `t` seconds into an epoch holds at most cap * (1 + t / epoch
    /// length): a burst at an epoch's end leaves almost no room at the next one's start (not a
    /// second full cap), and the room comes back linearly over the epoch.
    /// @param batchId A batch id never settled before.
    /// @param siteId The site whose signed events the batch settles.
    /// @param ruleSetVersion The rule-set version the batch was priced under (see {ITweiLedger}).
    /// @param evidenceRoot The merkle root of the batch's signed site events.
    /// @param actions The packed actions (see the interface's documentation).
    function settle(
        uint64 batchId,
        uint32 siteId,
        uint32 ruleSetVersion,
        bytes32 evidenceRoot,
        bytes calldata actions
    ) external;

    // ---------------------------------------------------------------- policy

    /// @notice Announces a rule set (policy admin), in force from now + {changeDelay}; replaces
    /// one still waiting.
    /// @dev Also writes the settlement loop's words for it into a new data contract's code, which
    /// `settle` copies in two reads instead of reading storage slots.
    /// @param amounts The amount per action kind, in wei of Twei, each below 2**88.
    /// @param maxUnits The unit bound per kind (Read-to-Earn: at most 10,000 basis points; 0
    /// disables a kind).
    function scheduleRuleSet(uint128[13] calldata amounts, uint16[13] calldata maxUnits) external;

    /// @notice Announces the overall caps per epoch (policy admin), in force from now + {changeDelay}.
    function scheduleEmissionCaps(uint128 mintCap, uint128 burnCap) external;

    /// @notice Registers a site, active, with its caps in force at once (policy admin).
    function registerSite(uint32 siteId, address signer, uint128 mintCap, uint128 burnCap) external;

    /// @notice Changes a site's signer key, at once (policy admin).
    function setSiteSigner(uint32 siteId, address signer) external;

    /// @notice Activates or deactivates a site, at once (policy admin).
    function setSiteActive(uint32 siteId, bool active) external;

    /// @notice Announces a site's caps per epoch (policy admin), in force from now + {changeDelay}.
    function scheduleSiteCaps(uint32 siteId, uint128 mintCap, uint128 burnCap) external;

    /// @notice Commits a site's policy by hash (policy admin): the site's first policy is in
    /// force at once; a change from now + {changeDelay}, so it is announced before it applies.
    /// A relayer refuses to start on a policy whose hash is not in force for each of its sites;
    /// an auditor replays each batch with the document whose hash was in force at its block.
    /// @param siteId A registered site.
    /// @param policyHash The keccak256 of the policy document's canonical JSON (not zero).
    function schedulePolicy(uint32 siteId, bytes32 policyHash) external;

    /// @notice Releases a registered post id, at once (policy admin): the remedy for an id a
    /// stolen relayer key registered ahead of its real post (post ids are derived from the site's
    /// own ids, so they can be foreseen). The id is unregistered again: a batch may register it,
    /// and one that refers to it before then reverts {TweiLedgerUnknownPost}. Revoke the stolen
    /// key first, or it can register the id again.
    /// @param postId A registered post id.
    function releasePost(uint64 postId) external;

    /// @notice Stops settlement (pauser).
    function pause() external;

    /// @notice Resumes settlement (unpauser, a role apart from the pauser's).
    function unpause() external;

    // ---------------------------------------------------------------- views

    /// @notice The Twei token this ledger mints and burns.
    function token() external view returns (address);

    /// @notice The rule set in force now and its version.
    function ruleSet() external view returns (uint32 version, uint128[13] memory amounts);

    /// @notice The rule set in force now, and the one announced to replace it (version 0: none).
    function ruleSchedule() external view returns (RuleSet memory current, RuleSet memory scheduled);

    /// @notice A rule set by version (version 0 and unknown versions: all zero).
    function ruleSetOf(uint32 version) external view returns (RuleSet memory);

    /// @notice The rule-set versions a batch may name now: the current one, and the one it
    /// replaced while its grace runs (0 otherwise), with the time that grace ends.
    function versionsInForce() external view returns (uint32 current, uint32 previous, uint64 graceEndsAt);

    /// @notice What an action of `kind` with `units` moves under the rule set in force.
    function amountFor(uint8 kind, uint16 units) external view returns (uint256);

    /// @notice The price of one PnL report instance (the amount of kind 12) in force now.
    function reportPrice() external view returns (uint256);

    /// @notice The least delay between announcing a rule-set or cap change and its effect, in seconds.
    function changeDelay() external view returns (uint48);

    /// @notice How long a replaced rule set is still honoured after the switch, in seconds.
    function ruleSetGrace() external view returns (uint48);

    /// @notice The length of an emission epoch, in seconds.
    function epochLength() external view returns (uint64);

    /// @notice The current emission epoch.
    function currentEpoch() external view returns (uint64);

    /// @notice The overall caps in force and the change announced for them.
    function emissionCaps() external view returns (CapsSchedule memory);

    /// @notice The overall usage of the current window.
    function epochUsage() external view returns (Usage memory);

    /// @notice A site's registry entry with its caps in force now (zero signer when unknown).
    function site(uint32 siteId) external view returns (Site memory);

    /// @notice A site's caps in force and the change announced for them.
    function siteCaps(uint32 siteId) external view returns (CapsSchedule memory);

    /// @notice A site's policy hash in force and the one announced (zero hashes: none).
    function sitePolicy(uint32 siteId) external view returns (PolicySchedule memory);

    /// @notice A site's usage of the current window.
    function siteEpochUsage(uint32 siteId) external view returns (Usage memory);

    /// @notice A post's registry entry (zero author when unknown).
    function post(uint64 postId) external view returns (Post memory);

    /// @notice Whether a batch id has settled.
    function isBatchSettled(uint64 batchId) external view returns (bool);
}
