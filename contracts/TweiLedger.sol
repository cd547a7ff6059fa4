// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {SSTORE2} from "solady/src/utils/SSTORE2.sol";
import {ITwei} from "./interfaces/ITwei.sol";
import {ITweiLedger} from "./interfaces/ITweiLedger.sol";
import {PackedSettlement} from "./libraries/PackedSettlement.sol";

/// @title TweiLedger
/// @notice Settles batches of site-reported actions into Twei mints and burns, by the public
/// rule set and its unit bounds, within per-epoch caps on mints and burns. Rule-set and cap
/// changes are announced {changeDelay} seconds ahead. See {ITweiLedger} for the action kinds,
/// the packed encoding of a batch and the caps' sliding window.
contract TweiLedger is ITweiLedger, AccessControlDefaultAdminRules, Pausable {
    using BitMaps for BitMaps.BitMap;

    /// @notice May announce rule sets and caps, and keep the site registry.
    bytes32 public constant POLICY_ADMIN_ROLE = keccak256("POLICY_ADMIN_ROLE");
    /// @notice May settle batches.
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    /// @notice May pause settlement (a hot key, e.g. the watchtower's).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice May resume settlement (held apart from the pauser: a stolen pauser key cannot
    /// lift a pause).
    bytes32 public constant UNPAUSER_ROLE = keccak256("UNPAUSER_ROLE");

    /// @notice The number of action kinds.
    uint256 public constant KIND_COUNT = 13;
    /// @notice Read-to-Earn units are basis points of the full read.
    uint256 public constant BPS = 10_000;
    /// @notice The largest cap the usage records hold.
    uint256 public constant MAX_CAP = type(uint104).max;

    uint256 private constant _POST_RECORD_BYTES = 28;
    // Keeps a price (amount times 16-bit units) below 2**104 and an account's batch sums below
    // 2**128 (see {PackedSettlement}).
    uint256 private constant _MAX_RULE_AMOUNT = 1 << 88;

    // The rule set in force as `settle` reads it, in one slot: its version, its words (the
    // settlement loop's table, in a data contract's code) and when the announced next one takes
    // effect (0: none announced). A due announcement is adopted by the next `settle` or
    // announcement; views already show it.
    struct RuleSlot {
        uint32 version;
        address words;
        uint48 nextAt;
    }

    // The announced next rule set, and the one the current replaced (honoured until
    // `replacedAt + ruleSetGrace`).
    struct RuleHistory {
        uint32 nextVersion;
        uint32 previousVersion;
        uint48 replacedAt;
        uint32 lastVersion;
    }

    struct RuleRecord {
        address words;
        uint48 effectiveAt;
    }

    // Caps in force and when the announced ones take effect (0: none), in one slot.
    struct Caps {
        uint104 mint;
        uint104 burn;
        uint48 nextAt;
    }

    struct NextCaps {
        uint104 mint;
        uint104 burn;
    }

    // One quantity's window: this epoch's total and the previous epoch's.
    struct Window {
        uint48 epoch;
        uint104 current;
        uint104 previous;
    }

    struct SiteRecord {
        address signer;
        bool active;
        Caps caps;
        NextCaps nextCaps;
        Window minted;
        Window burned;
    }

    // A site's policy hash in force, and the announced next one with when it takes effect (0: none).
    struct PolicyRecord {
        bytes32 current;
        bytes32 next;
        uint48 nextAt;
    }

    ITwei private immutable _token;
    uint64 private immutable _epochLength;
    uint48 private immutable _changeDelay;
    uint48 private immutable _ruleSetGrace;

    RuleSlot private _rules;
    RuleHistory private _ruleHistory;
    mapping(uint32 version => RuleRecord) private _ruleSets;
    Caps private _caps;
    NextCaps private _nextCaps;
    Window private _minted;
    Window private _burned;
    mapping(uint32 siteId => SiteRecord) private _sites;
    mapping(uint64 postId => Post) private _posts;
    mapping(uint32 siteId => PolicyRecord) private _sitePolicies;
    BitMaps.BitMap private _settledBatches;

    /// @param token_ The Twei token, deployed with this ledger's address.
    /// @param config The roles, delays, epoch, caps and first rule set (see {ITweiLedger-Config}).
    constructor(
        ITwei token_,
        Config memory config
    ) AccessControlDefaultAdminRules(config.adminDelay, config.admin) {
        if (config.policyAdmin == address(0) || config.pauser == address(0) || config.unpauser == address(0))
            revert TweiLedgerZeroAddress();
        if (config.epochLength == 0) revert TweiLedgerInvalidEpochLength();
        address tokenLedger = token_.ledger();
        if (tokenLedger != address(this)) revert TweiLedgerTokenMismatch(address(token_), tokenLedger);
        _token = token_;
        _epochLength = config.epochLength;
        _changeDelay = config.changeDelay;
        _ruleSetGrace = config.ruleSetGrace;
        _grantRole(POLICY_ADMIN_ROLE, config.policyAdmin);
        _grantRole(PAUSER_ROLE, config.pauser);
        _grantRole(UNPAUSER_ROLE, config.unpauser);
        if (config.relayer != address(0)) _grantRole(RELAYER_ROLE, config.relayer);
        uint48 now_ = uint48(block.timestamp);
        address words = _writeRuleSet(1, now_, config.amounts, config.maxUnits);
        _rules = RuleSlot({version: 1, words: words, nextAt: 0});
        _ruleHistory.lastVersion = 1;
        _caps = Caps({mint: _capOf(config.mintCap), burn: _capOf(config.burnCap), nextAt: 0});
        emit EmissionCapsScheduled(now_, config.mintCap, config.burnCap);
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc ITweiLedger
    function settle(
        uint64 batchId,
        uint32 siteId,
        uint32 ruleSetVersion,
        bytes32 evidenceRoot,
        bytes calldata actions
    ) external onlyRole(RELAYER_ROLE) whenNotPaused {
        if (_settledBatches.get(batchId)) revert TweiLedgerBatchAlreadySettled(batchId);
        _settledBatches.set(batchId);
        SiteRecord storage site_ = _sites[siteId];
        if (site_.signer == address(0)) revert TweiLedgerUnknownSite(siteId);
        if (!site_.active) revert TweiLedgerSiteInactive(siteId);
        address words = _wordsFor(ruleSetVersion);
        uint256 pos = _registerPosts(batchId, siteId, actions);
        uint256 frame = _newFrame(batchId, words, actions);
        pos = _referencePosts(frame, siteId, pos, actions);
        PackedSettlement.applyGroups(frame, pos);
        (uint256 minted, uint256 burned) = PackedSettlement.settleBalances(frame);
        _countAgainstCaps(siteId, site_, minted, burned);
        emit BatchSettled(batchId, siteId, evidenceRoot, ruleSetVersion, minted, burned, actions);
    }

    /// @dev The rule words of `version` if a batch may name it now (adopting a due announcement).
    function _wordsFor(uint32 version) private returns (address) {
        RuleSlot memory rules = _rules;
        if (rules.nextAt != 0 && block.timestamp >= rules.nextAt) rules = _adoptNextRuleSet(rules);
        if (version == rules.version) return rules.words;
        RuleHistory memory history = _ruleHistory;
        uint64 graceEndsAt = history.previousVersion == 0 ? 0 : uint64(history.replacedAt) + _ruleSetGrace;
        if (version != 0 && version == history.previousVersion && block.timestamp < graceEndsAt)
            return _ruleSets[version].words;
        revert TweiLedgerRuleSetNotInForce(version, rules.version, history.previousVersion, graceEndsAt);
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
    function _newFrame(uint64 batchId, address words, bytes calldata actions) private view returns (uint256 frame) {
        frame = PackedSettlement.allocateFrame();
        PackedSettlement.loadRuleWords(frame, words);
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

    /// @dev Counts the batch's mints and burns against the overall and the site's caps. A
    /// quantity the batch does not move is not checked: after a cap was lowered below what the
    /// window already holds (mints stopped, say), a burn-only or registration-only batch still
    /// settles.
    function _countAgainstCaps(uint32 siteId, SiteRecord storage site_, uint256 minted, uint256 burned) private {
        uint64 epoch = currentEpoch();
        // The part of this epoch still to run, in seconds: the previous epoch's weight.
        uint256 remaining = _epochLength - (block.timestamp % _epochLength);
        Caps memory caps = _capsNow(_caps, _nextCaps);
        Caps memory siteCaps_ = _capsNow(site_.caps, site_.nextCaps);
        bool fits;
        uint256 requested;
        if (minted != 0) {
            (fits, requested) = _count(_minted, epoch, remaining, minted, caps.mint);
            if (!fits) revert TweiLedgerEmissionCapExceeded(epoch, caps.mint, requested);
            (fits, requested) = _count(site_.minted, epoch, remaining, minted, siteCaps_.mint);
            if (!fits) revert TweiLedgerSiteEmissionCapExceeded(siteId, epoch, siteCaps_.mint, requested);
        }
        if (burned == 0) return;
        (fits, requested) = _count(_burned, epoch, remaining, burned, caps.burn);
        if (!fits) revert TweiLedgerBurnCapExceeded(epoch, caps.burn, requested);
        (fits, requested) = _count(site_.burned, epoch, remaining, burned, siteCaps_.burn);
        if (!fits) revert TweiLedgerSiteBurnCapExceeded(siteId, epoch, siteCaps_.burn, requested);
    }

    /// @dev Adds `amount` to a window (one read, one write) when the window's total with it fits
    /// `cap`; returns whether it fits and that total (see {ITweiLedger-settle}).
    function _count(
        Window storage window,
        uint64 epoch,
        uint256 remaining,
        uint256 amount,
        uint256 cap
    ) private returns (bool fits, uint256 requested) {
        (uint256 current, uint256 previous) = _windowAt(window, epoch);
        current += amount;
        requested = current + Math.ceilDiv(previous * remaining, _epochLength);
        fits = requested <= cap;
        // Both fit 104 bits: each is at most a cap, itself at most MAX_CAP.
        if (fits) {
            window.epoch = uint48(epoch);
            window.current = uint104(current);
            window.previous = uint104(previous);
        }
    }

    /// @dev This epoch's and the previous epoch's totals of a window as of `epoch`.
    function _windowAt(Window storage window, uint64 epoch) private pure returns (uint256 current, uint256 previous) {
        Window memory w = window;
        if (w.epoch == epoch) return (w.current, w.previous);
        if (uint256(w.epoch) + 1 == epoch) return (0, w.current);
        return (0, 0);
    }

    function _usageOf(Window storage minted, Window storage burned, Caps memory caps) private view returns (Usage memory usage) {
        uint64 epoch = currentEpoch();
        uint256 remaining = _epochLength - (block.timestamp % _epochLength);
        (uint256 mintedNow, uint256 mintedBefore) = _windowAt(minted, epoch);
        (uint256 burnedNow, uint256 burnedBefore) = _windowAt(burned, epoch);
        uint256 mintUsed = mintedNow + Math.ceilDiv(mintedBefore * remaining, _epochLength);
        uint256 burnUsed = burnedNow + Math.ceilDiv(burnedBefore * remaining, _epochLength);
        usage = Usage({
            epoch: epoch,
            minted: mintedNow,
            burned: burnedNow,
            mintRoom: mintUsed >= caps.mint ? 0 : caps.mint - mintUsed,
            burnRoom: burnUsed >= caps.burn ? 0 : caps.burn - burnUsed
        });
    }

    /// @dev The caps in force now: the announced ones once their time has come.
    function _capsNow(Caps storage caps, NextCaps storage next) private view returns (Caps memory now_) {
        now_ = caps;
        if (now_.nextAt != 0 && block.timestamp >= now_.nextAt) {
            NextCaps memory n = next;
            now_ = Caps({mint: n.mint, burn: n.burn, nextAt: 0});
        }
    }

    function _capOf(uint128 cap) private pure returns (uint104) {
        if (cap > MAX_CAP) revert TweiLedgerCapTooLarge(cap, MAX_CAP);
        return uint104(cap);
    }

    function _scheduleCaps(Caps storage caps, NextCaps storage next, uint128 mintCap, uint128 burnCap) private returns (uint48 at) {
        Caps memory current = _capsNow(caps, next);
        at = uint48(block.timestamp) + _changeDelay;
        NextCaps memory n = NextCaps({mint: _capOf(mintCap), burn: _capOf(burnCap)});
        if (at == block.timestamp) {
            caps.mint = n.mint;
            caps.burn = n.burn;
            caps.nextAt = 0;
            return at;
        }
        caps.mint = current.mint;
        caps.burn = current.burn;
        caps.nextAt = at;
        next.mint = n.mint;
        next.burn = n.burn;
    }

    function _capsSchedule(Caps storage caps, NextCaps storage next) private view returns (CapsSchedule memory schedule) {
        Caps memory now_ = _capsNow(caps, next);
        schedule.mintCap = now_.mint;
        schedule.burnCap = now_.burn;
        if (now_.nextAt != 0) {
            NextCaps memory n = next;
            schedule.scheduledMintCap = n.mint;
            schedule.scheduledBurnCap = n.burn;
            schedule.scheduledAt = now_.nextAt;
        }
    }

    // ---------------------------------------------------------------- rule sets

    /// @dev Writes a rule set's words into a data contract, records it and announces it.
    function _writeRuleSet(
        uint32 version,
        uint48 effectiveAt,
        uint128[13] memory amounts,
        uint16[13] memory maxUnits
    ) private returns (address words) {
        for (uint256 kind; kind < KIND_COUNT; ++kind) {
            if (amounts[kind] >= _MAX_RULE_AMOUNT) revert TweiLedgerRuleAmountTooLarge(kind, amounts[kind]);
        }
        if (maxUnits[0] > BPS) revert TweiLedgerUnitBoundTooLarge(0, maxUnits[0]);
        words = SSTORE2.write(PackedSettlement.ruleWords(amounts, maxUnits));
        _ruleSets[version] = RuleRecord({words: words, effectiveAt: effectiveAt});
        emit RuleSetScheduled(version, effectiveAt, amounts, maxUnits);
    }

    /// @dev Makes the announced rule set current (its time has come); returns the new slot.
    function _adoptNextRuleSet(RuleSlot memory rules) private returns (RuleSlot memory adopted) {
        RuleHistory storage history = _ruleHistory;
        uint32 next = history.nextVersion;
        history.previousVersion = rules.version;
        history.replacedAt = rules.nextAt;
        history.nextVersion = 0;
        adopted = RuleSlot({version: next, words: _ruleSets[next].words, nextAt: 0});
        _rules = adopted;
    }

    /// @dev The rule slot as in force now, without writing.
    function _rulesNow() private view returns (RuleSlot memory rules, uint32 previous, uint64 replacedAt) {
        rules = _rules;
        RuleHistory memory history = _ruleHistory;
        if (rules.nextAt != 0 && block.timestamp >= rules.nextAt) {
            return (RuleSlot({version: history.nextVersion, words: _ruleSets[history.nextVersion].words, nextAt: 0}), rules.version, rules.nextAt);
        }
        return (rules, history.previousVersion, history.replacedAt);
    }

    function _ruleSetView(uint32 version) private view returns (RuleSet memory view_) {
        RuleRecord memory record = _ruleSets[version];
        if (record.words == address(0)) return view_;
        view_.version = version;
        view_.effectiveAt = record.effectiveAt;
        (view_.amounts, view_.maxUnits) = PackedSettlement.decodeRuleWords(SSTORE2.read(record.words));
    }

    // ---------------------------------------------------------------- policy

    /// @inheritdoc ITweiLedger
    function scheduleRuleSet(
        uint128[13] calldata amounts,
        uint16[13] calldata maxUnits
    ) external onlyRole(POLICY_ADMIN_ROLE) {
        RuleSlot memory rules = _rules;
        if (rules.nextAt != 0 && block.timestamp >= rules.nextAt) rules = _adoptNextRuleSet(rules);
        RuleHistory storage history = _ruleHistory;
        uint32 version = history.lastVersion + 1;
        history.lastVersion = version;
        uint48 at = uint48(block.timestamp) + _changeDelay;
        address words = _writeRuleSet(version, at, amounts, maxUnits);
        if (_changeDelay == 0) {
            history.previousVersion = rules.version;
            history.replacedAt = at;
            history.nextVersion = 0;
            _rules = RuleSlot({version: version, words: words, nextAt: 0});
        } else {
            history.nextVersion = version;
            _rules = RuleSlot({version: rules.version, words: rules.words, nextAt: at});
        }
    }

    /// @inheritdoc ITweiLedger
    function scheduleEmissionCaps(uint128 mintCap, uint128 burnCap) external onlyRole(POLICY_ADMIN_ROLE) {
        uint48 at = _scheduleCaps(_caps, _nextCaps, mintCap, burnCap);
        emit EmissionCapsScheduled(at, mintCap, burnCap);
    }

    /// @inheritdoc ITweiLedger
    function registerSite(
        uint32 siteId,
        address signer,
        uint128 mintCap,
        uint128 burnCap
    ) external onlyRole(POLICY_ADMIN_ROLE) {
        if (signer == address(0)) revert TweiLedgerZeroAddress();
        SiteRecord storage site_ = _sites[siteId];
        if (site_.signer != address(0)) revert TweiLedgerSiteAlreadyRegistered(siteId);
        site_.signer = signer;
        site_.active = true;
        site_.caps = Caps({mint: _capOf(mintCap), burn: _capOf(burnCap), nextAt: 0});
        emit SiteRegistered(siteId, signer, mintCap, burnCap);
    }

    /// @inheritdoc ITweiLedger
    function setSiteSigner(uint32 siteId, address signer) external onlyRole(POLICY_ADMIN_ROLE) {
        if (signer == address(0)) revert TweiLedgerZeroAddress();
        SiteRecord storage site_ = _knownSite(siteId);
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
    function scheduleSiteCaps(uint32 siteId, uint128 mintCap, uint128 burnCap) external onlyRole(POLICY_ADMIN_ROLE) {
        SiteRecord storage site_ = _knownSite(siteId);
        uint48 at = _scheduleCaps(site_.caps, site_.nextCaps, mintCap, burnCap);
        emit SiteCapsScheduled(siteId, at, mintCap, burnCap);
    }

    /// @inheritdoc ITweiLedger
    function schedulePolicy(uint32 siteId, bytes32 policyHash) external onlyRole(POLICY_ADMIN_ROLE) {
        _knownSite(siteId);
        if (policyHash == bytes32(0)) revert TweiLedgerZeroPolicyHash(siteId);
        PolicyRecord storage record = _sitePolicies[siteId];
        bytes32 current = _policyNow(record);
        // The first policy replaces none: nothing to announce ahead.
        uint48 at = current == bytes32(0) ? uint48(block.timestamp) : uint48(block.timestamp) + _changeDelay;
        if (at == block.timestamp) {
            record.current = policyHash;
            record.next = bytes32(0);
            record.nextAt = 0;
        } else {
            record.current = current;
            record.next = policyHash;
            record.nextAt = at;
        }
        emit PolicyScheduled(siteId, policyHash, at);
    }

    /// @inheritdoc ITweiLedger
    function releasePost(uint64 postId) external onlyRole(POLICY_ADMIN_ROLE) {
        Post memory held = _posts[postId];
        if (held.author == address(0)) revert TweiLedgerPostNotRegistered(postId);
        delete _posts[postId];
        emit PostReleased(postId, held.siteId, held.author);
    }

    /// @inheritdoc ITweiLedger
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc ITweiLedger
    function unpause() external onlyRole(UNPAUSER_ROLE) {
        _unpause();
    }

    function _knownSite(uint32 siteId) private view returns (SiteRecord storage site_) {
        site_ = _sites[siteId];
        if (site_.signer == address(0)) revert TweiLedgerUnknownSite(siteId);
    }

    /// @dev A site's policy hash in force now: the announced one once its time has come.
    function _policyNow(PolicyRecord storage record) private view returns (bytes32) {
        uint48 nextAt = record.nextAt;
        return nextAt != 0 && block.timestamp >= nextAt ? record.next : record.current;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ITweiLedger
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc ITweiLedger
    function ruleSet() external view returns (uint32 version, uint128[13] memory amounts) {
        (RuleSlot memory rules, , ) = _rulesNow();
        return (rules.version, _ruleSetView(rules.version).amounts);
    }

    /// @inheritdoc ITweiLedger
    function ruleSchedule() external view returns (RuleSet memory current, RuleSet memory scheduled) {
        (RuleSlot memory rules, , ) = _rulesNow();
        current = _ruleSetView(rules.version);
        if (rules.nextAt != 0) scheduled = _ruleSetView(_ruleHistory.nextVersion);
    }

    /// @inheritdoc ITweiLedger
    function ruleSetOf(uint32 version) external view returns (RuleSet memory) {
        return _ruleSetView(version);
    }

    /// @inheritdoc ITweiLedger
    function versionsInForce() external view returns (uint32 current, uint32 previous, uint64 graceEndsAt) {
        (RuleSlot memory rules, uint32 before, uint64 replacedAt) = _rulesNow();
        if (before != 0) {
            uint64 endsAt = replacedAt + _ruleSetGrace;
            if (block.timestamp < endsAt) return (rules.version, before, endsAt);
        }
        return (rules.version, 0, 0);
    }

    /// @inheritdoc ITweiLedger
    function amountFor(uint8 kind, uint16 units) external view returns (uint256) {
        if (kind >= KIND_COUNT) revert TweiLedgerUnknownKind(0, kind);
        (RuleSlot memory rules, , ) = _rulesNow();
        RuleSet memory current = _ruleSetView(rules.version);
        if (units == 0 || units > current.maxUnits[kind])
            revert TweiLedgerUnitsOutOfBounds(0, kind, units, current.maxUnits[kind]);
        uint256 amount = uint256(current.amounts[kind]) * units;
        return kind == 0 ? amount / BPS : amount;
    }

    /// @inheritdoc ITweiLedger
    function reportPrice() external view returns (uint256) {
        (RuleSlot memory rules, , ) = _rulesNow();
        return _ruleSetView(rules.version).amounts[12];
    }

    /// @inheritdoc ITweiLedger
    function changeDelay() external view returns (uint48) {
        return _changeDelay;
    }

    /// @inheritdoc ITweiLedger
    function ruleSetGrace() external view returns (uint48) {
        return _ruleSetGrace;
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
    function emissionCaps() external view returns (CapsSchedule memory) {
        return _capsSchedule(_caps, _nextCaps);
    }

    /// @inheritdoc ITweiLedger
    function epochUsage() external view returns (Usage memory) {
        return _usageOf(_minted, _burned, _capsNow(_caps, _nextCaps));
    }

    /// @inheritdoc ITweiLedger
    function site(uint32 siteId) external view returns (Site memory) {
        SiteRecord storage site_ = _sites[siteId];
        Caps memory caps = _capsNow(site_.caps, site_.nextCaps);
        return Site({signer: site_.signer, active: site_.active, mintCap: caps.mint, burnCap: caps.burn});
    }

    /// @inheritdoc ITweiLedger
    function siteCaps(uint32 siteId) external view returns (CapsSchedule memory) {
        SiteRecord storage site_ = _sites[siteId];
        return _capsSchedule(site_.caps, site_.nextCaps);
    }

    /// @inheritdoc ITweiLedger
    function siteEpochUsage(uint32 siteId) external view returns (Usage memory) {
        SiteRecord storage site_ = _sites[siteId];
        return _usageOf(site_.minted, site_.burned, _capsNow(site_.caps, site_.nextCaps));
    }

    /// @inheritdoc ITweiLedger
    function sitePolicy(uint32 siteId) external view returns (PolicySchedule memory schedule) {
        PolicyRecord storage record = _sitePolicies[siteId];
        schedule.policyHash = _policyNow(record);
        uint48 nextAt = record.nextAt;
        if (nextAt != 0 && block.timestamp < nextAt) {
            schedule.scheduledPolicyHash = record.next;
            schedule.scheduledAt = nextAt;
        }
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
