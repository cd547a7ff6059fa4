// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {SSTORE2} from "solady/src/utils/SSTORE2.sol";
import {ITwei} from "./interfaces/ITwei.sol";
import {ITweiLedger} from "./interfaces/ITweiLedger.sol";
import {PackedSettlement} from "./libraries/PackedSettlement.sol";

/// @title TweiLedger
/// @notice Settles batches of site-reported actions into Twei mints and burns, by the public
/// rule set, within per-epoch emission caps. See {ITweiLedger} for the action kinds and the
/// packed encoding of a batch.
contract TweiLedger is ITweiLedger, AccessControl, Pausable {
    using BitMaps for BitMaps.BitMap;

    /// @notice May change the rule set, the emission caps and the site registry.
    bytes32 public constant POLICY_ADMIN_ROLE = keccak256("POLICY_ADMIN_ROLE");
    /// @notice May settle batches.
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    /// @notice May pause and unpause settlement.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice The number of action kinds.
    uint256 public constant KIND_COUNT = 13;
    /// @notice Read-to-Earn units are basis points of the full read.
    uint256 public constant BPS = 10_000;

    uint256 private constant _POST_RECORD_BYTES = 28;
    // Keeps a price (amount times 16-bit units) below 2**104 and an account's batch sums below
    // 2**128 (see {PackedSettlement}).
    uint256 private constant _MAX_RULE_AMOUNT = 1 << 88;

    ITwei private immutable _token;
    uint64 private immutable _epochLength;

    uint128[13] private _amounts;
    uint32 private _ruleSetVersion;
    // The rule set as the settlement loop's words, in a data contract's code (read in `settle`
    // with the version: both share a slot).
    address private _ruleWords;
    uint128 private _emissionCap;
    EpochUsage private _usage;
    mapping(uint32 siteId => Site) private _sites;
    mapping(uint32 siteId => EpochUsage) private _siteUsage;
    mapping(uint64 postId => Post) private _posts;
    BitMaps.BitMap private _settledBatches;

    /// @param admin Receives the default admin role, which grants the other roles.
    /// @param token_ The Twei token, deployed with this ledger's address.
    /// @param epochLength_ The length of an emission epoch, in seconds.
    /// @param emissionCap_ The overall emission cap per epoch.
    constructor(address admin, ITwei token_, uint64 epochLength_, uint128 emissionCap_) {
        if (admin == address(0)) revert TweiLedgerZeroAddress();
        if (epochLength_ == 0) revert TweiLedgerInvalidEpochLength();
        address tokenLedger = token_.ledger();
        if (tokenLedger != address(this)) revert TweiLedgerTokenMismatch(address(token_), tokenLedger);
        _token = token_;
        _epochLength = epochLength_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        uint128[13] memory noAmounts;
        _ruleWords = SSTORE2.write(PackedSettlement.ruleWords(noAmounts));
        _emissionCap = emissionCap_;
        emit EmissionCapUpdated(0, emissionCap_);
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc ITweiLedger
    function settle(
        uint64 batchId,
        uint32 siteId,
        bytes32 evidenceRoot,
        bytes calldata actions
    ) external onlyRole(RELAYER_ROLE) whenNotPaused {
        if (_settledBatches.get(batchId)) revert TweiLedgerBatchAlreadySettled(batchId);
        _settledBatches.set(batchId);
        Site storage site_ = _sites[siteId];
        if (site_.signer == address(0)) revert TweiLedgerUnknownSite(siteId);
        if (!site_.active) revert TweiLedgerSiteInactive(siteId);
        uint256 pos = _registerPosts(batchId, siteId, actions);
        uint256 frame = _newFrame(batchId, actions);
        pos = _referencePosts(frame, siteId, pos, actions);
        PackedSettlement.applyGroups(frame, pos);
        (uint256 minted, uint256 burned) = PackedSettlement.settleBalances(frame);
        _consumeEmission(siteId, site_.epochCap, minted);
        emit BatchSettled(batchId, siteId, evidenceRoot, _ruleSetVersion, minted, burned, actions);
    }

    /// @dev Registers the batch's new posts; returns the calldata position of its account groups.
    function _registerPosts(uint64 batchId, uint32 siteId, bytes calldata actions) private returns (uint256 pos) {
        if (actions.length < 2) revert TweiLedgerMalformedActions(0);
        uint256 postCount = uint16(bytes2(actions[0:2]));
        uint256 offset = 2;
        if (actions.length < offset + postCount * _POST_RECORD_BYTES) revert TweiLedgerMalformedActions(offset);
        for (uint256 i; i < postCount; ++i) {
            uint64 postId = uint64(bytes8(actions[offset:offset + 8]));
            address author = address(bytes20(actions[offset + 8:offset + 28]));
            if (author == address(0)) revert TweiLedgerZeroAddress();
            if (_posts[postId].author != address(0)) revert TweiLedgerPostAlreadyRegistered(postId);
            _posts[postId] = Post({author: author, siteId: siteId});
            emit PostRegistered(postId, siteId, author, batchId);
            offset += _POST_RECORD_BYTES;
        }
        assembly ("memory-safe") {
            pos := add(actions.offset, offset)
        }
    }

    /// @dev Lays out the settlement frame (see {PackedSettlement}): the rule set as a table of
    /// per-kind words, and what the loop needs to know.
    function _newFrame(uint64 batchId, bytes calldata actions) private view returns (uint256 frame) {
        frame = PackedSettlement.allocateFrame();
        PackedSettlement.loadRuleWords(frame, _ruleWords);
        uint256 base;
        assembly ("memory-safe") {
            base := actions.offset
        }
        PackedSettlement.setContext(frame, base, base + actions.length, batchId, address(_token));
    }

    /// @dev Checks the posts the batch's actions refer to (registered, of this site) and writes
    /// them into the frame; returns the calldata position of the account groups.
    function _referencePosts(
        uint256 frame,
        uint32 siteId,
        uint256 pos,
        bytes calldata actions
    ) private view returns (uint256) {
        uint256 base;
        assembly ("memory-safe") {
            base := actions.offset
        }
        uint256 offset = pos - base;
        if (actions.length < offset + 2) revert TweiLedgerMalformedActions(offset);
        uint256 refCount = uint16(bytes2(actions[offset:offset + 2]));
        if (refCount > PackedSettlement.MAX_POST_REFS) revert TweiLedgerTooManyPostRefs(refCount);
        offset += 2;
        if (actions.length < offset + refCount * 8) revert TweiLedgerMalformedActions(offset);
        PackedSettlement.setRefsPosition(frame, base + offset);
        for (uint256 ref; ref < refCount; ++ref) {
            uint64 postId = uint64(bytes8(actions[offset:offset + 8]));
            Post storage post_ = _posts[postId];
            // One read of the post's slot: author and site share it.
            (address author, uint32 postSite) = (post_.author, post_.siteId);
            if (author == address(0)) revert TweiLedgerUnknownPost(postId);
            if (postSite != siteId) revert TweiLedgerPostOfOtherSite(postId, postSite, siteId);
            PackedSettlement.setPostRef(frame, ref, author);
            offset += 8;
        }
        return base + offset;
    }

    /// @dev Counts `minted` against the overall and the site's caps of the current epoch.
    function _consumeEmission(uint32 siteId, uint128 siteCap, uint256 minted) private {
        uint64 epoch = currentEpoch();
        uint256 overall = _usedIn(_usage, epoch) + minted;
        if (overall > _emissionCap) revert TweiLedgerEmissionCapExceeded(epoch, _emissionCap, overall);
        uint256 forSite = _usedIn(_siteUsage[siteId], epoch) + minted;
        if (forSite > siteCap) revert TweiLedgerSiteEmissionCapExceeded(siteId, epoch, siteCap, forSite);
        // Both fit in 192 bits: each is at most a uint128 cap.
        _usage = EpochUsage({epoch: epoch, minted: uint192(overall)});
        _siteUsage[siteId] = EpochUsage({epoch: epoch, minted: uint192(forSite)});
    }

    function _usedIn(EpochUsage storage usage, uint64 epoch) private view returns (uint256) {
        return usage.epoch == epoch ? usage.minted : 0;
    }

    // ---------------------------------------------------------------- policy

    /// @inheritdoc ITweiLedger
    function setRuleSet(uint128[13] calldata amounts) external onlyRole(POLICY_ADMIN_ROLE) {
        for (uint256 kind; kind < KIND_COUNT; ++kind) {
            if (amounts[kind] >= _MAX_RULE_AMOUNT) revert TweiLedgerRuleAmountTooLarge(kind, amounts[kind]);
        }
        _amounts = amounts;
        _ruleWords = SSTORE2.write(PackedSettlement.ruleWords(amounts));
        uint32 version = ++_ruleSetVersion;
        emit RuleSetUpdated(version, amounts);
    }

    /// @inheritdoc ITweiLedger
    function setEmissionCap(uint128 newCap) external onlyRole(POLICY_ADMIN_ROLE) {
        uint128 previous = _emissionCap;
        _emissionCap = newCap;
        emit EmissionCapUpdated(previous, newCap);
    }

    /// @inheritdoc ITweiLedger
    function registerSite(uint32 siteId, address signer, uint128 epochCap) external onlyRole(POLICY_ADMIN_ROLE) {
        if (signer == address(0)) revert TweiLedgerZeroAddress();
        if (_sites[siteId].signer != address(0)) revert TweiLedgerSiteAlreadyRegistered(siteId);
        _sites[siteId] = Site({signer: signer, active: true, epochCap: epochCap});
        emit SiteRegistered(siteId, signer, epochCap);
    }

    /// @inheritdoc ITweiLedger
    function setSiteSigner(uint32 siteId, address signer) external onlyRole(POLICY_ADMIN_ROLE) {
        if (signer == address(0)) revert TweiLedgerZeroAddress();
        Site storage site_ = _knownSite(siteId);
        address previous = site_.signer;
        site_.signer = signer;
        emit SiteSignerUpdated(siteId, previous, signer);
    }

    /// @inheritdoc ITweiLedger
    function setSiteActive(uint32 siteId, bool active) external onlyRole(POLICY_ADMIN_ROLE) {
        _knownSite(siteId).active = active;
        emit SiteActivationUpdated(siteId, active);
    }

    /// @inheritdoc ITweiLedger
    function setSiteEmissionCap(uint32 siteId, uint128 newCap) external onlyRole(POLICY_ADMIN_ROLE) {
        Site storage site_ = _knownSite(siteId);
        uint128 previous = site_.epochCap;
        site_.epochCap = newCap;
        emit SiteEmissionCapUpdated(siteId, previous, newCap);
    }

    /// @inheritdoc ITweiLedger
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc ITweiLedger
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    function _knownSite(uint32 siteId) private view returns (Site storage site_) {
        site_ = _sites[siteId];
        if (site_.signer == address(0)) revert TweiLedgerUnknownSite(siteId);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ITweiLedger
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc ITweiLedger
    function ruleSet() external view returns (uint32 version, uint128[13] memory amounts) {
        return (_ruleSetVersion, _amounts);
    }

    /// @inheritdoc ITweiLedger
    function amountFor(uint8 kind, uint16 units) external view returns (uint256) {
        if (kind >= KIND_COUNT) revert TweiLedgerUnknownKind(0, kind);
        if (units == 0 || (kind == 0 && units > BPS)) revert TweiLedgerInvalidUnits(0, units);
        uint256 amount = uint256(_amounts[kind]) * units;
        return kind == 0 ? amount / BPS : amount;
    }

    /// @inheritdoc ITweiLedger
    function reportPrice() external view returns (uint256) {
        return _amounts[12];
    }

    /// @inheritdoc ITweiLedger
    function epochLength() external view returns (uint64) {
        return _epochLength;
    }

    /// @inheritdoc ITweiLedger
    function currentEpoch() public view returns (uint64) {
        return uint64(block.timestamp / _epochLength);
    }

    /// @inheritdoc ITweiLedger
    function emissionCap() external view returns (uint128) {
        return _emissionCap;
    }

    /// @inheritdoc ITweiLedger
    function epochMinted() external view returns (uint256) {
        return _usedIn(_usage, currentEpoch());
    }

    /// @inheritdoc ITweiLedger
    function site(uint32 siteId) external view returns (Site memory) {
        return _sites[siteId];
    }

    /// @inheritdoc ITweiLedger
    function siteEpochMinted(uint32 siteId) external view returns (uint256) {
        return _usedIn(_siteUsage[siteId], currentEpoch());
    }

    /// @inheritdoc ITweiLedger
    function post(uint64 postId) external view returns (Post memory) {
        return _posts[postId];
    }

    /// @inheritdoc ITweiLedger
    function isBatchSettled(uint64 batchId) external view returns (bool) {
        return _settledBatches.get(batchId);
    }
}
