// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {ITwei} from "./interfaces/ITwei.sol";
import {ITweiLedger} from "./interfaces/ITweiLedger.sol";

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

    uint256 private constant _KIND_READ = 0;
    uint256 private constant _KIND_PLUSES = 1;
    uint256 private constant _KIND_LIKES_AUTHOR = 5;
    uint256 private constant _KIND_DISLIKES_AUTHOR = 6;
    uint256 private constant _KIND_MINUSES = 7;
    uint256 private constant _KIND_PUBLISH = 11;
    uint256 private constant _FIRST_BURN_KIND = 7;
    // Bit k set: kind k is paid to or taken from the post's author, who must be the account.
    uint256 private constant _AUTHOR_KINDS =
        (1 << _KIND_PLUSES) | (1 << _KIND_LIKES_AUTHOR) | (1 << _KIND_DISLIKES_AUTHOR) | (1 << _KIND_PUBLISH);
    // Bit k set: the post's author may not do kind k on their own post.
    uint256 private constant _NOT_BY_AUTHOR_KINDS = (1 << _KIND_READ) | (1 << _KIND_MINUSES);

    uint256 private constant _POST_RECORD_BYTES = 28;
    uint256 private constant _GROUP_HEADER_BYTES = 21;
    uint256 private constant _ACTION_BYTES = 11;

    ITwei private immutable _token;
    uint64 private immutable _epochLength;

    uint128[13] private _amounts;
    uint32 private _ruleSetVersion;
    uint128 private _emissionCap;
    EpochUsage private _usage;
    mapping(uint32 siteId => Site) private _sites;
    mapping(uint32 siteId => EpochUsage) private _siteUsage;
    mapping(uint64 postId => Post) private _posts;
    BitMaps.BitMap private _settledBatches;

    /// @dev What one account's group of actions added up to.
    struct GroupTotals {
        uint256 minted;
        uint256 burned;
    }

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

        uint256 offset = _registerPosts(batchId, siteId, actions);
        (uint256 minted, uint256 burned, uint256[] memory records) = _applyGroups(batchId, siteId, actions, offset);
        _consumeEmission(siteId, site_.epochCap, minted);
        _token.settleBalances(records);
        emit BatchSettled(batchId, siteId, evidenceRoot, _ruleSetVersion, minted, burned, actions);
    }

    /// @dev Registers the batch's new posts; returns the offset of the account groups.
    function _registerPosts(uint64 batchId, uint32 siteId, bytes calldata actions) private returns (uint256 offset) {
        if (actions.length < 2) revert TweiLedgerMalformedActions(0);
        uint256 postCount = uint16(bytes2(actions[0:2]));
        offset = 2;
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
    }

    /// @dev Applies every account group; returns the batch's totals and the token's records.
    function _applyGroups(
        uint64 batchId,
        uint32 siteId,
        bytes calldata actions,
        uint256 offset
    ) private returns (uint256 minted, uint256 burned, uint256[] memory records) {
        uint256 end = actions.length;
        if (end < offset + 2) revert TweiLedgerMalformedActions(offset);
        uint256 accountCount = uint16(bytes2(actions[offset:offset + 2]));
        offset += 2;
        records = new uint256[](accountCount * 2);
        uint128[13] memory amounts = _amounts;
        uint256 actionIndex;
        for (uint256 g; g < accountCount; ++g) {
            if (end < offset + _GROUP_HEADER_BYTES) revert TweiLedgerMalformedActions(offset);
            address account = address(bytes20(actions[offset:offset + 20]));
            uint256 count = uint8(actions[offset + 20]);
            offset += _GROUP_HEADER_BYTES;
            if (count == 0 || end < offset + count * _ACTION_BYTES) revert TweiLedgerMalformedActions(offset);
            if (account == address(0)) revert TweiLedgerZeroAddress();

            GroupTotals memory totals = _applyGroup(
                batchId,
                siteId,
                account,
                actions[offset:offset + count * _ACTION_BYTES],
                actionIndex,
                amounts
            );
            // Cannot overflow: offsets and indexes are bounded by the calldata length, and a
            // group's totals are below 2**128 each (checked by SafeCast just below).
            unchecked {
                offset += count * _ACTION_BYTES;
                actionIndex += count;
                minted += totals.minted;
                burned += totals.burned;
            }
            records[2 * g] = uint256(uint160(account));
            records[2 * g + 1] =
                (uint256(SafeCast.toUint128(totals.minted)) << 128) |
                SafeCast.toUint128(totals.burned);
        }
        if (offset != end) revert TweiLedgerMalformedActions(offset);
    }

    /// @dev Applies one account's actions: sums its mints, and pays each burn whole or
    /// records it as a shortfall.
    function _applyGroup(
        uint64 batchId,
        uint32 siteId,
        address account,
        bytes calldata group,
        uint256 firstActionIndex,
        uint128[13] memory amounts
    ) private returns (GroupTotals memory totals) {
        uint64 cachedPostId;
        Post memory post_;
        // Spendable funds are read from the token only at the account's first burn.
        bool fundsLoaded;
        uint256 balance;
        uint256 allowance;
        uint256 length = group.length;
        for (uint256 offset; offset < length; offset += _ACTION_BYTES) {
            uint256 word;
            assembly ("memory-safe") {
                word := calldataload(add(group.offset, offset))
            }
            uint256 kind = word >> 248;
            uint256 units = (word >> 232) & 0xffff;
            uint64 postId = uint64(word >> 168);
            uint256 actionIndex = firstActionIndex + offset / _ACTION_BYTES;

            if (kind >= KIND_COUNT) revert TweiLedgerUnknownKind(actionIndex, kind);
            if (units == 0 || (kind == _KIND_READ && units > BPS)) revert TweiLedgerInvalidUnits(actionIndex, units);
            if (postId != cachedPostId || post_.author == address(0)) {
                post_ = _posts[postId];
                cachedPostId = postId;
                if (post_.author == address(0)) revert TweiLedgerUnknownPost(postId);
                if (post_.siteId != siteId) revert TweiLedgerPostOfOtherSite(postId, post_.siteId, siteId);
            }
            uint256 kindBit = 1 << kind;
            if (kindBit & _AUTHOR_KINDS != 0) {
                if (account != post_.author) revert TweiLedgerNotPostAuthor(postId, account, post_.author);
            } else if (kindBit & _NOT_BY_AUTHOR_KINDS != 0 && account == post_.author) {
                revert TweiLedgerSelfAction(actionIndex, postId, account);
            }

            // Cannot overflow: a uint128 amount times a 16-bit unit count fits in 144 bits,
            // and a group holds at most 255 actions.
            unchecked {
                uint256 amount = kind == _KIND_READ ? (amounts[kind] * units) / BPS : amounts[kind] * units;
                if (kind < _FIRST_BURN_KIND) {
                    totals.minted += amount;
                    continue;
                }
                if (!fundsLoaded) {
                    (balance, allowance) = _token.burnableOf(account);
                    fundsLoaded = true;
                }
                uint256 afterBurn = totals.burned + amount;
                if (afterBurn <= allowance && afterBurn <= balance + totals.minted) {
                    totals.burned = afterBurn;
                } else {
                    emit BurnShortfall(batchId, account, actionIndex, uint8(kind), postId, amount);
                }
            }
        }
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
        _amounts = amounts;
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
        if (units == 0 || (kind == _KIND_READ && units > BPS)) revert TweiLedgerInvalidUnits(0, units);
        uint256 amount = uint256(_amounts[kind]) * units;
        return kind == _KIND_READ ? amount / BPS : amount;
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
