// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ITwei} from "../interfaces/ITwei.sol";
import {ITweiLedger} from "../interfaces/ITweiLedger.sol";

/// @title PackedSettlement
/// @notice The settlement loop of {TweiLedger}: it walks a batch's packed account groups (layout
/// in {ITweiLedger}), checks every action against the rule set and the post registry, prices
/// it, decides which burns can be paid, and writes one balance record per account for the
/// token's `settleBalances`.
///
/// Burns are summed per account and left to the token, which pays an account's burns when its
/// allowance and balance (the batch's mints included) cover them all and names the accounts they
/// do not; only for those does the ledger decide burn by burn ({settleBalances}).
///
/// This loop is the product's running cost (`npm run bench:gas`), so it is assembly over whole
/// calldata words, working in one memory *frame*:
///   [0x0000, 0x2000) the rule set, one word per kind byte (`setKind`, layout at `_AMOUNT_MASK`);
///                    zero for kinds past 12;
///   [0x2000, 0x4000) the batch's referenced posts, one word per reference byte: the post's
///                    author (`setPostRef`, after checking the post); zero past the references;
///   [0x4000, ...)    the context words below (`_X_*`).
/// Every calldata read is bounds-checked against the end of the actions before its value is
/// used (a read past the end gives zeros). A failure stores its code and values in the frame,
/// leaves the loop, and {_revertFailure} raises the matching {ITweiLedger} custom error.
library PackedSettlement {
    uint256 private constant _GROUP_HEADER_BYTES = 21;
    uint256 private constant _ACTION_BYTES = 4;
    /// @dev The most distinct posts one batch's actions may refer to.
    uint256 internal constant MAX_POST_REFS = 256;
    uint256 private constant _BPS = 10_000;
    // Bit k set: kind k is paid to or taken from the post's author, who must be the account:
    // Earned for Pluses (1), Likes Author (5), Dislikes Author (6), Post Publish Tribute (11).
    uint256 private constant _AUTHOR_KINDS = 0x862;
    // Bit k set: the post's author may not do kind k on their own post: Read-to-Earn (0),
    // Spent for Minuses (7).
    uint256 private constant _NOT_BY_AUTHOR_KINDS = 0x81;
    uint256 private constant _FIRST_BURN_KIND = 7;

    // A rule word: amount (bits 0..127), maxUnits (200..215), author rule (216..217: 1 must
    // be the post's author, 2 must not be), burn (218), divisor (240..255).
    uint256 private constant _AMOUNT_MASK = 0xffffffffffffffffffffffffffffffff;
    uint256 private constant _MAX_UNITS_SHIFT = 200;
    uint256 private constant _AUTHOR_RULE_SHIFT = 216;
    uint256 private constant _BURN_BIT = 1 << 218;
    uint256 private constant _DIVISOR_SHIFT = 240;
    // A price is below 2**120 (rule amounts are below 2**104); this keeps it and drops the burn bit.
    uint256 private constant _AMOUNT_MASK_WIDE = (1 << 200) - 1;


    // One word per possible byte value (256) in both tables, so any kind or post reference
    // reads inside the frame; words past the rule set or the referenced posts are zero.
    uint256 private constant _POSTS = 0x2000;
    uint256 private constant _X_END = 0x4000;
    uint256 private constant _X_TOKEN = 0x4040;
    uint256 private constant _X_BATCH_ID = 0x40a0;
    uint256 private constant _X_FAILURE = 0x4120;
    uint256 private constant _X_FAIL_A = 0x4140;
    uint256 private constant _X_FAIL_B = 0x4160;
    uint256 private constant _X_FAIL_C = 0x4180;
    uint256 private constant _X_RECORDS_END = 0x41a0;
    uint256 private constant _X_BASE = 0x41c0;
    uint256 private constant _X_CALLDATA = 0x41e0;
    uint256 private constant _X_GROUPS = 0x4200;
    uint256 private constant _X_RECORDS = 0x4220;
    uint256 private constant _X_REFS = 0x4240;
    uint256 private constant _FRAME_BYTES = 0x4260;

    uint256 private constant _FAIL_MALFORMED = 1;
    uint256 private constant _FAIL_ZERO_ACCOUNT = 2;
    uint256 private constant _FAIL_UNKNOWN_KIND = 3;
    uint256 private constant _FAIL_UNITS = 4;
    uint256 private constant _FAIL_UNKNOWN_POST_REF = 5;
    uint256 private constant _FAIL_NOT_AUTHOR = 7;
    uint256 private constant _FAIL_SELF_ACTION = 8;

    /// @dev A zeroed frame.
    function allocateFrame() internal pure returns (uint256 frame) {
        assembly ("memory-safe") {
            frame := mload(0x40)
            mstore(0x40, add(frame, _FRAME_BYTES))
            calldatacopy(frame, calldatasize(), _FRAME_BYTES)
        }
    }

    /// @dev Writes kind `kind`'s rule word: its amount, unit range, divisor and author rule.
    function setKind(uint256 frame, uint256 kind, uint128 amount) internal pure {
        uint256 word = uint256(amount);
        word |= (kind == 0 ? _BPS : type(uint16).max) << _MAX_UNITS_SHIFT;
        word |= (kind == 0 ? _BPS : 1) << _DIVISOR_SHIFT;
        if (kind >= _FIRST_BURN_KIND) word |= _BURN_BIT;
        if ((_AUTHOR_KINDS >> kind) & 1 == 1) word |= 1 << _AUTHOR_RULE_SHIFT;
        if ((_NOT_BY_AUTHOR_KINDS >> kind) & 1 == 1) word |= 2 << _AUTHOR_RULE_SHIFT;
        assembly ("memory-safe") {
            mstore(add(frame, shl(5, kind)), word)
        }
    }

    /// @dev Writes post reference `ref`: the author of a checked post.
    function setPostRef(uint256 frame, uint256 ref, address author) internal pure {
        assembly ("memory-safe") {
            mstore(add(add(frame, _POSTS), shl(5, ref)), author)
        }
    }

    /// @dev Records where the post references start in calldata (their ids, for events and errors).
    function setRefsPosition(uint256 frame, uint256 refs) internal pure {
        assembly ("memory-safe") {
            mstore(add(frame, _X_REFS), refs)
        }
    }

    /// @dev Writes what the loop needs to know besides the rule set and the posts.
    function setContext(
        uint256 frame,
        uint256 base,
        uint256 end,
        uint64 batchId,
        address token
    ) internal pure {
        assembly ("memory-safe") {
            mstore(add(frame, _X_BASE), base)
            mstore(add(frame, _X_END), end)
            mstore(add(frame, _X_BATCH_ID), batchId)
            mstore(add(frame, _X_TOKEN), token)
        }
    }

    /// @dev Applies the account groups that start at calldata position `pos`, writing in memory
    /// the calldata of `settleBalances(uint256[])`: [selector | 0x20 | length | records].
    function applyGroups(uint256 frame, uint256 pos) internal pure {
        bytes4 settleSelector = ITwei.settleBalances.selector;
        uint256 end;
        assembly ("memory-safe") {
            end := mload(add(frame, _X_END))
        }
        if (pos + 2 > end) {
            uint256 base;
            assembly ("memory-safe") {
                base := mload(add(frame, _X_BASE))
            }
            revert ITweiLedger.TweiLedgerMalformedActions(pos - base);
        }
        uint256 recordPtr;
        assembly ("memory-safe") {
            let recordCount := shl(1, shr(240, calldataload(pos)))
            let callData := mload(0x40)
            mstore(callData, settleSelector)
            mstore(add(callData, 0x04), 0x20)
            mstore(add(callData, 0x24), recordCount)
            recordPtr := add(callData, 0x44)
            mstore(add(frame, _X_RECORDS), recordPtr)
            mstore(add(frame, _X_GROUPS), add(pos, 2))
            mstore(add(frame, _X_RECORDS_END), add(recordPtr, shl(5, recordCount)))
            mstore(0x40, add(recordPtr, shl(5, recordCount)))
            mstore(add(frame, _X_CALLDATA), callData)
        }
        _applyGroupsLoop(frame, pos + 2, recordPtr);
        uint256 failed;
        assembly ("memory-safe") {
            failed := mload(add(frame, _X_FAILURE))
        }
        if (failed != 0) _revertFailure(frame);
    }

    /// @dev Calls the token's `settleBalances` with the calldata {applyGroups} wrote, then settles
    /// the burns of the accounts whose allowance or balance did not cover all of them; returns
    /// what the batch minted and burned.
    function settleBalances(uint256 frame) internal returns (uint256 minted, uint256 burned) {
        uint256 uncovered;
        assembly ("memory-safe") {
            let callData := mload(add(frame, _X_CALLDATA))
            let size := add(0x44, shl(5, mload(add(callData, 0x24))))
            let ok := call(gas(), mload(add(frame, _X_TOKEN)), 0, callData, size, 0, 0)
            let p := mload(0x40)
            returndatacopy(p, 0, returndatasize())
            if iszero(ok) {
                revert(p, returndatasize())
            }
            // (uint256 minted, uint256 burned, uint256[] uncovered), ABI-encoded.
            minted := mload(p)
            burned := mload(add(p, 0x20))
            uncovered := add(p, mload(add(p, 0x40)))
            mstore(0x40, add(p, returndatasize()))
        }
        uint256 count;
        assembly ("memory-safe") {
            count := mload(uncovered)
        }
        if (count != 0) burned += _settleUncovered(frame, uncovered, count);
    }

    /// @dev For each account the token named (by record index), pays its burns one by one, in
    /// order, while its allowance and its balance (the batch's mints included) cover them all so
    /// far; records every other burn as a {ITweiLedger-BurnShortfall}. Returns what it burned.
    function _settleUncovered(uint256 frame, uint256 uncovered, uint256 count) private returns (uint256 paid) {
        uint256[] memory records = new uint256[](count * 2);
        for (uint256 j; j < count; ++j) {
            uint256 group;
            assembly ("memory-safe") {
                group := mload(add(uncovered, shl(5, add(j, 1))))
            }
            (address account, uint256 burnedHere) = _settleAccountBurns(frame, group);
            records[2 * j] = uint160(account);
            records[2 * j + 1] = burnedHere;
            paid += burnedHere;
        }
        (, uint256 burnedAgain, uint256[] memory stillUncovered) = _token(frame).settleBalances(records);
        // Each burn above fits the funds read just before: the token must pay them all.
        assert(burnedAgain == paid && stillUncovered.length == 0);
    }

    /// @dev Decides the burns of account group `group` one by one; returns its account and what
    /// it can pay.
    function _settleAccountBurns(uint256 frame, uint256 group) private returns (address account, uint256 burnedHere) {
        (address groupAccount, uint256 pos, uint256 end, uint256 index) = _groupAt(frame, group);
        account = groupAccount;
        (uint256 funds, uint256 allowance) = _token(frame).burnableOf(account);
        if (allowance < funds) funds = allowance;
        for (; pos < end; pos += _ACTION_BYTES) {
            (uint256 price, bool burn) = _priceAt(frame, pos);
            if (burn) {
                if (burnedHere + price <= funds) burnedHere += price;
                else _emitShortfall(frame, account, index, pos, price);
            }
            ++index;
        }
    }

    function _emitShortfall(uint256 frame, address account, uint256 index, uint256 pos, uint256 price) private {
        uint64 batchId;
        uint8 kind;
        uint64 postId;
        assembly ("memory-safe") {
            batchId := mload(add(frame, _X_BATCH_ID))
            let word := calldataload(pos)
            kind := shr(248, word)
            postId := shr(192, calldataload(add(mload(add(frame, _X_REFS)), shl(3, byte(3, word)))))
        }
        emit ITweiLedger.BurnShortfall(batchId, account, index, kind, postId, price);
    }

    function _token(uint256 frame) private pure returns (ITwei token) {
        assembly ("memory-safe") {
            token := mload(add(frame, _X_TOKEN))
        }
    }

    /// @dev The `group`-th account group: its account, the calldata span of its actions and the
    /// index of its first action in the batch. Walks the groups from the start (rare path).
    function _groupAt(
        uint256 frame,
        uint256 group
    ) private pure returns (address account, uint256 pos, uint256 end, uint256 firstIndex) {
        assembly ("memory-safe") {
            pos := mload(add(frame, _X_GROUPS))
            for {
                let g := 0
            } lt(g, group) {
                g := add(g, 1)
            } {
                let count := byte(20, calldataload(pos))
                firstIndex := add(firstIndex, count)
                pos := add(pos, add(_GROUP_HEADER_BYTES, mul(count, _ACTION_BYTES)))
            }
            account := shr(96, calldataload(pos))
            end := add(add(pos, _GROUP_HEADER_BYTES), mul(byte(20, calldataload(pos)), _ACTION_BYTES))
            pos := add(pos, _GROUP_HEADER_BYTES)
        }
    }

    /// @dev The price and burn flag of the (already checked) action at `pos`.
    function _priceAt(uint256 frame, uint256 pos) private pure returns (uint256 price, bool burn) {
        assembly ("memory-safe") {
            let word := calldataload(pos)
            let rule := mload(add(frame, shl(5, shr(248, word))))
            price := div(mul(and(rule, _AMOUNT_MASK), and(shr(232, word), 0xffff)), shr(_DIVISOR_SHIFT, rule))
            burn := iszero(iszero(and(rule, _BURN_BIT)))
        }
    }

    /// @dev The loop, apart from {applyGroups} so that only its own variables are on the stack.
    /// Temporaries are expressions or block-scoped, to keep every variable within reach. The
    /// index of the current action, needed only for errors and shortfalls, is derived from the
    /// group's first index and start, kept in the frame.
    // Cannot overflow: a rule amount is below 2**104 ({TweiLedger-setRuleSet} refuses more) and
    // units below 2**16, so a price is below 2**120, and a group of at most 255 actions sums to
    // less than 2**128: an account's mints and burns each fit the 128 bits of its record. A
    // balance is at most the total supply, which the uint128 emission caps keep far below 2**255.
    function _applyGroupsLoop(uint256 frame, uint256 pos, uint256 recordPtr) private pure {
        assembly ("memory-safe") {
            // The id of post reference `ref`, read from the references in calldata.
            function postIdOf(f, ref) -> postId {
                postId := shr(192, calldataload(add(mload(add(f, _X_REFS)), shl(3, ref))))
            }

            // The index among the batch's actions of the action at `p`, in the group whose record is
            // at `r`: the bytes before it, less the headers of the groups so far, in actions.
            function indexAt(f, p, r) -> index {
                let groups := add(1, shr(6, sub(r, mload(add(f, _X_RECORDS)))))
                index := div(sub(sub(p, mload(add(f, _X_GROUPS))), mul(groups, _GROUP_HEADER_BYTES)), _ACTION_BYTES)
            }

            for {} lt(recordPtr, mload(add(frame, _X_RECORDS_END))) {
                recordPtr := add(recordPtr, 0x40)
            } {
                // Read first (calldataload past the end gives zeros), then check once.
                let account := shr(96, calldataload(pos))
                let groupEnd := add(add(pos, _GROUP_HEADER_BYTES), mul(byte(20, calldataload(pos)), _ACTION_BYTES))
                if or(
                    or(gt(groupEnd, mload(add(frame, _X_END))), eq(groupEnd, add(pos, _GROUP_HEADER_BYTES))),
                    iszero(account)
                ) {
                    mstore(add(frame, _X_FAILURE), _FAIL_MALFORMED)
                    mstore(add(frame, _X_FAIL_A), add(pos, _GROUP_HEADER_BYTES))
                    if iszero(account) {
                        mstore(add(frame, _X_FAILURE), _FAIL_ZERO_ACCOUNT)
                    }
                    if gt(add(pos, _GROUP_HEADER_BYTES), mload(add(frame, _X_END))) {
                        mstore(add(frame, _X_FAILURE), _FAIL_MALFORMED)
                        mstore(add(frame, _X_FAIL_A), pos)
                    }
                    break
                }
                pos := add(pos, _GROUP_HEADER_BYTES)
                let accountMinted := 0
                let accountBurned := 0
                for {} lt(pos, groupEnd) {
                    pos := add(pos, _ACTION_BYTES)
                } {
                    let word := calldataload(pos) // kind (8 bits) | units (16) | post reference (8) | ...
                    let units := and(shr(232, word), 0xffff)
                    {
                        let rule := mload(add(frame, shl(5, shr(248, word))))
                        let author := mload(add(add(frame, _POSTS), shl(5, byte(3, word))))
                        // One test for every way an action can be wrong: units outside 1..maxUnits
                        // (0 underflows; a kind past 12 has no rule word: maxUnits 0 admits none), a post
                        // reference past the batch's (no author), or the author rule (1: must be the
                        // post's author, 2: must not be).
                        if or(
                            iszero(lt(sub(units, 1), and(shr(_MAX_UNITS_SHIFT, rule), 0xffff))),
                            or(and(shr(_AUTHOR_RULE_SHIFT, rule), add(1, eq(account, author))), iszero(author))
                        ) {
                            word := byte(3, word) // the post reference
                            switch iszero(lt(sub(units, 1), and(shr(_MAX_UNITS_SHIFT, rule), 0xffff)))
                            case 1 {
                                mstore(add(frame, _X_FAILURE), _FAIL_UNITS)
                                mstore(add(frame, _X_FAIL_A), indexAt(frame, pos, recordPtr))
                                mstore(add(frame, _X_FAIL_B), units)
                                if iszero(rule) {
                                    mstore(add(frame, _X_FAILURE), _FAIL_UNKNOWN_KIND)
                                    mstore(add(frame, _X_FAIL_B), shr(248, calldataload(pos)))
                                }
                            }
                            default {
                                mstore(add(frame, _X_FAILURE), _FAIL_NOT_AUTHOR)
                                mstore(add(frame, _X_FAIL_A), postIdOf(frame, word))
                                mstore(add(frame, _X_FAIL_B), account)
                                mstore(add(frame, _X_FAIL_C), author)
                                if eq(account, author) {
                                    mstore(add(frame, _X_FAILURE), _FAIL_SELF_ACTION)
                                    mstore(add(frame, _X_FAIL_A), indexAt(frame, pos, recordPtr))
                                    mstore(add(frame, _X_FAIL_B), postIdOf(frame, word))
                                }
                                if iszero(author) {
                                    mstore(add(frame, _X_FAILURE), _FAIL_UNKNOWN_POST_REF)
                                    mstore(add(frame, _X_FAIL_A), indexAt(frame, pos, recordPtr))
                                    mstore(add(frame, _X_FAIL_B), word)
                                }
                            }
                            break
                        }
                        word := byte(3, word) // now the post reference
                        // The price, with the rule's burn bit (above any price) kept.
                        units := or(div(mul(and(rule, _AMOUNT_MASK), units), shr(_DIVISOR_SHIFT, rule)), and(rule, _BURN_BIT))
                    }
                    // Burns are summed optimistically: the token pays an account's burns when its
                    // allowance and balance cover them all, and names the accounts they do not;
                    // {settleBalances} then decides those burns one by one.
                    switch and(units, _BURN_BIT)
                    case 0 {
                        accountMinted := add(accountMinted, units)
                    }
                    default {
                        accountBurned := add(accountBurned, and(units, _AMOUNT_MASK_WIDE))
                    }
                }
                // A failure left the group early.
                if lt(pos, groupEnd) {
                    break
                }
                mstore(recordPtr, account)
                mstore(add(recordPtr, 0x20), or(shl(128, accountMinted), accountBurned))
            }
            if iszero(mload(add(frame, _X_FAILURE))) {
                if iszero(eq(pos, mload(add(frame, _X_END)))) {
                    mstore(add(frame, _X_FAILURE), _FAIL_MALFORMED)
                    mstore(add(frame, _X_FAIL_A), pos)
                }
            }
        }
    }

    /// @dev Raises the {ITweiLedger} custom error for the failure recorded in the frame.
    function _revertFailure(uint256 frame) private pure {
        uint256 failure;
        uint256 a;
        uint256 b;
        uint256 c;
        uint256 base;
        assembly ("memory-safe") {
            failure := mload(add(frame, _X_FAILURE))
            a := mload(add(frame, _X_FAIL_A))
            b := mload(add(frame, _X_FAIL_B))
            c := mload(add(frame, _X_FAIL_C))
            base := mload(add(frame, _X_BASE))
        }
        if (failure == _FAIL_MALFORMED) revert ITweiLedger.TweiLedgerMalformedActions(a - base);
        if (failure == _FAIL_ZERO_ACCOUNT) revert ITweiLedger.TweiLedgerZeroAddress();
        if (failure == _FAIL_UNKNOWN_KIND) revert ITweiLedger.TweiLedgerUnknownKind(a, b);
        if (failure == _FAIL_UNITS) revert ITweiLedger.TweiLedgerInvalidUnits(a, b);
        if (failure == _FAIL_UNKNOWN_POST_REF) revert ITweiLedger.TweiLedgerUnknownPostRef(a, b);
        if (failure == _FAIL_NOT_AUTHOR)
            revert ITweiLedger.TweiLedgerNotPostAuthor(uint64(a), address(uint160(b)), address(uint160(c)));
        if (failure == _FAIL_SELF_ACTION)
            revert ITweiLedger.TweiLedgerSelfAction(a, uint64(b), address(uint160(c)));
        assert(false); // every failure code is handled above
    }
}
