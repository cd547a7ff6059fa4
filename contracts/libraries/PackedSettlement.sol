// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ITwei} from "../interfaces/ITwei.sol";
import {ITweiLedger} from "../interfaces/ITweiLedger.sol";

/// @title PackedSettlement
/// @notice The settlement loop of {TweiLedger}: it walks a batch's packed account groups (layout
/// in {ITweiLedger}), checks every action against the rule set and the post registry, prices
/// it, and writes one balance record per account for the token's `settleBalances`.
///
/// Burns are summed per account and left to the token, which pays an account's burns when its
/// allowance and balance (the batch's mints included) cover them all and names the accounts they
/// do not; only for those does the ledger decide burn by burn ({settleBalances}).
///
/// This loop is the product's running cost (`npm run bench:gas`), so it is assembly over whole
/// calldata words, working in one memory *frame*:
///   [0x0000, 0x2000) the rule set, one word per kind byte (`ruleWords`, layout at
///                    `_AMOUNT_FIELD_MASK`), with and without the last-action flag; zero for
///                    kinds past 12;
///   [0x2000, 0x4000) the batch's referenced posts, one word per reference byte: the post's
///                    author (`setPostRef`, after checking the post); zero past the references;
///   [0x4000, ...)    the context words below (`_X_*`).
/// The loop only tells a good batch from a bad one, with as few operations as it can: it reads
/// whole words (a read past the end of the actions gives other bytes or zeros) and checks at the
/// end that the groups ended exactly where the actions do. A bad batch is walked again by
/// {_revertMalformed}, which names the first fault with its {ITweiLedger} custom error.
library PackedSettlement {
    uint256 private constant _GROUP_HEADER_BYTES = 20;
    // In an action's kind byte: set on the last action of its account's group.
    uint256 private constant _LAST_ACTION_FLAG = 0x80;
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

    // A rule word (`ruleWords`), laid out so the loop reads each part with one or two operations:
    //   bits 0..215    the amount field: the amount for a mint kind; for a burn kind the amount
    //                  shifted left by 128, so that one sum holds an account's mints in its low
    //                  and its burns in its high 128 bits (the record {ITwei-settleBalances} takes);
    //   bits 216..231  the divisor: 10,000 for Read-to-Earn (units are basis points), else 1;
    //   bits 232..233  the author rule: 1 the account must be the post's author, 2 must not be;
    //   bit 234        set for a burn kind;
    //   bits 240..255  the kind's unit bound: an action's units must be 1..bound.
    // A kind past 12 has the zero word: bound 0, which the units test refuses.
    uint256 private constant _AMOUNT_FIELD_MASK = (1 << 216) - 1;
    uint256 private constant _DIVISOR_SHIFT = 216;
    uint256 private constant _AUTHOR_RULE_SHIFT = 232;
    uint256 private constant _BURN_BIT = 1 << 234;
    uint256 private constant _MAX_UNITS_SHIFT = 240;
    uint256 private constant _BURN_SHIFT = 128;
    uint256 private constant _AMOUNT_BITS_MASK = (1 << 88) - 1;

    // One word per possible byte value (256) in both tables, so any kind or post reference
    // reads inside the frame; words past the rule set or the referenced posts are zero.
    uint256 private constant _POSTS = 0x2000;
    uint256 private constant _X_END = 0x4000;
    uint256 private constant _X_TOKEN = 0x4020;
    uint256 private constant _X_BATCH_ID = 0x4040;
    uint256 private constant _X_RECORDS_END = 0x4060;
    uint256 private constant _X_BASE = 0x4080;
    uint256 private constant _X_CALLDATA = 0x40a0;
    uint256 private constant _X_GROUPS = 0x40c0;
    uint256 private constant _X_RECORDS = 0x40e0;
    uint256 private constant _X_REFS = 0x4100;
    uint256 private constant _FRAME_BYTES = 0x4120;

    /// @dev A zeroed frame.
    function allocateFrame() internal pure returns (uint256 frame) {
        assembly ("memory-safe") {
            frame := mload(0x40)
            mstore(0x40, add(frame, _FRAME_BYTES))
            calldatacopy(frame, calldatasize(), _FRAME_BYTES)
        }
    }

    /// @dev The rule words of a rule set (layout at `_AMOUNT_FIELD_MASK`), one per kind: what
    /// {TweiLedger} keeps in a data contract's code for {loadRuleWords} to copy. Amounts must be
    /// below 2**88 (checked by the ledger).
    function ruleWords(
        uint128[13] memory amounts,
        uint16[13] memory maxUnits
    ) internal pure returns (bytes memory words) {
        words = new bytes(amounts.length * 32);
        for (uint256 kind; kind < amounts.length; ++kind) {
            uint256 amount = amounts[kind];
            uint256 word = kind >= _FIRST_BURN_KIND ? (amount << _BURN_SHIFT) | _BURN_BIT : amount;
            word |= (kind == 0 ? _BPS : 1) << _DIVISOR_SHIFT;
            word |= uint256(maxUnits[kind]) << _MAX_UNITS_SHIFT;
            if ((_AUTHOR_KINDS >> kind) & 1 == 1) word |= 1 << _AUTHOR_RULE_SHIFT;
            if ((_NOT_BY_AUTHOR_KINDS >> kind) & 1 == 1) word |= 2 << _AUTHOR_RULE_SHIFT;
            assembly ("memory-safe") {
                mstore(add(add(words, 0x20), shl(5, kind)), word)
            }
        }
    }

    /// @dev The amounts and unit bounds a rule set's words ({ruleWords}) hold.
    function decodeRuleWords(
        bytes memory words
    ) internal pure returns (uint128[13] memory amounts, uint16[13] memory maxUnits) {
        if (words.length < 13 * 32) return (amounts, maxUnits);
        for (uint256 kind; kind < 13; ++kind) {
            uint256 word;
            assembly ("memory-safe") {
                word := mload(add(add(words, 0x20), shl(5, kind)))
            }
            uint256 field = word & _AMOUNT_FIELD_MASK;
            amounts[kind] = uint128((kind >= _FIRST_BURN_KIND ? field >> _BURN_SHIFT : field) & _AMOUNT_BITS_MASK);
            maxUnits[kind] = uint16(word >> _MAX_UNITS_SHIFT);
        }
    }

    /// @dev Copies the rule words {ruleWords} wrote into data contract `pointer` (an SSTORE2
    /// pointer: its code is a STOP byte, then the words) to the frame, for each kind byte with
    /// and without the last-action flag: two code copies instead of a storage read per kind.
    function loadRuleWords(uint256 frame, address pointer) internal view {
        assembly ("memory-safe") {
            let size := sub(extcodesize(pointer), 1)
            extcodecopy(pointer, frame, 1, size)
            extcodecopy(pointer, add(frame, shl(5, _LAST_ACTION_FLAG)), 1, size)
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
    /// the calldata of `settleBalances(uint256[])`: [selector | 0x20 | length | records]; returns
    /// the records (that calldata's tail, as an array).
    function applyGroups(uint256 frame, uint256 pos) internal pure returns (uint256[] memory records) {
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
            records := add(callData, 0x24)
        }
        if (!_applyGroupsLoop(frame, pos + 2, recordPtr)) _revertMalformed(frame);
    }

    /// @dev Calls the token's `settleBalances` with the calldata {applyGroups} wrote, then settles
    /// the burns of the accounts whose allowance or balance did not cover all of them; returns
    /// what the batch minted and burned. Frees the memory it used and the records: what is
    /// allocated after it reuses that memory instead of growing it.
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
        assembly ("memory-safe") {
            mstore(0x40, mload(add(frame, _X_CALLDATA)))
        }
    }

    /// @dev For each account the token named (by record index, ascending), pays its burns one by
    /// one, in order, while its allowance and its balance (the batch's mints included) cover them
    /// all so far; records every other burn as a {ITweiLedger-BurnShortfall}. Each account's burns
    /// are paid before the next account's funds are read, so an account named in two groups never
    /// pays twice out of the same funds. Returns what it burned.
    function _settleUncovered(uint256 frame, uint256 uncovered, uint256 count) private returns (uint256 paid) {
        uint256 callData = _allocateBurnCall();
        // One walk over the groups serves every named account, the indexes being ascending.
        uint256 pos;
        uint256 index;
        uint256 group;
        assembly ("memory-safe") {
            pos := mload(add(frame, _X_GROUPS))
        }
        for (uint256 j; j < count; ++j) {
            uint256 target;
            assembly ("memory-safe") {
                target := mload(add(uncovered, shl(5, add(j, 1))))
            }
            (pos, index) = _skipGroups(pos, index, target - group);
            address account;
            uint256 burnedHere;
            (account, burnedHere, pos, index) = _settleAccountBurns(frame, pos, index);
            group = target + 1;
            if (burnedHere != 0) {
                _burnCovered(frame, callData, account, burnedHere);
                paid += burnedHere;
            }
        }
    }

    /// @dev Decides the burns of the account group whose header is at `pos` (its first action has
    /// index `index`) one by one; returns its account, what it can pay, and the position and action
    /// index of the next group.
    function _settleAccountBurns(
        uint256 frame,
        uint256 pos,
        uint256 index
    ) private returns (address account, uint256 burnedHere, uint256 nextPos, uint256 nextIndex) {
        account = _accountAt(pos);
        pos += _GROUP_HEADER_BYTES;
        (uint256 funds, uint256 allowance) = _token(frame).burnableOf(account);
        if (allowance < funds) funds = allowance;
        bool last;
        while (!last) {
            (uint256 price, bool burn, bool isLast) = _priceAt(frame, pos);
            if (burn) {
                if (burnedHere + price <= funds) burnedHere += price;
                else _emitShortfall(frame, account, index, pos, price);
            }
            last = isLast;
            pos += _ACTION_BYTES;
            ++index;
        }
        return (account, burnedHere, pos, index);
    }

    /// @dev Memory for a one-record `settleBalances` call, reused by every {_burnCovered} of a batch
    /// so that memory does not grow with the accounts: its calldata ([selector | 0x20 | 2 | record],
    /// 0x84 bytes) from `callData`, what it returns from `callData + 0xa0`.
    function _allocateBurnCall() private pure returns (uint256 callData) {
        bytes4 settleSelector = ITwei.settleBalances.selector;
        assembly ("memory-safe") {
            callData := mload(0x40)
            mstore(0x40, add(callData, 0x120))
            mstore(callData, settleSelector)
            mstore(add(callData, 0x04), 0x20)
            mstore(add(callData, 0x24), 2)
        }
    }

    /// @dev Burns `amount` from `account` through the token's `settleBalances` (one record).
    function _burnCovered(uint256 frame, uint256 callData, address account, uint256 amount) private {
        bool paidAll;
        assembly ("memory-safe") {
            mstore(add(callData, 0x44), account)
            mstore(add(callData, 0x64), shl(_BURN_SHIFT, amount))
            if iszero(call(gas(), mload(add(frame, _X_TOKEN)), 0, callData, 0x84, 0, 0)) {
                returndatacopy(callData, 0, returndatasize())
                revert(callData, returndatasize())
            }
            // (minted, burned, uncovered[]): all of it burned, no account uncovered.
            if eq(returndatasize(), 0x80) {
                let returned := add(callData, 0xa0)
                returndatacopy(returned, 0, 0x80)
                paidAll := and(eq(mload(add(returned, 0x20)), amount), iszero(mload(add(returned, 0x60))))
            }
        }
        // The burn fits the funds read just before it: the token must pay it.
        assert(paidAll);
    }

    function _emitShortfall(uint256 frame, address account, uint256 index, uint256 pos, uint256 price) private {
        uint64 batchId;
        uint8 kind;
        uint64 postId;
        assembly ("memory-safe") {
            batchId := mload(add(frame, _X_BATCH_ID))
            let word := calldataload(pos)
            kind := and(shr(248, word), not(_LAST_ACTION_FLAG))
            postId := shr(192, calldataload(add(mload(add(frame, _X_REFS)), shl(3, byte(3, word)))))
        }
        emit ITweiLedger.BurnShortfall(batchId, account, index, kind, postId, price);
    }

    function _token(uint256 frame) private pure returns (ITwei token) {
        assembly ("memory-safe") {
            token := mload(add(frame, _X_TOKEN))
        }
    }

    /// @dev Skips `groups` account groups from the header at `pos` (its first action has index
    /// `index`); returns the position of the group header it lands on and that group's first
    /// action index.
    function _skipGroups(
        uint256 pos,
        uint256 index,
        uint256 groups
    ) private pure returns (uint256 nextPos, uint256 nextIndex) {
        assembly ("memory-safe") {
            for {
                let g := 0
            } lt(g, groups) {
                g := add(g, 1)
            } {
                pos := add(pos, _GROUP_HEADER_BYTES)
                for {} 1 {} {
                    let kindByte := byte(0, calldataload(pos))
                    pos := add(pos, _ACTION_BYTES)
                    index := add(index, 1)
                    if and(kindByte, _LAST_ACTION_FLAG) {
                        break
                    }
                }
            }
            nextPos := pos
            nextIndex := index
        }
    }

    /// @dev The price, burn flag and last-action flag of the (already checked) action at `pos`.
    function _priceAt(uint256 frame, uint256 pos) private pure returns (uint256 price, bool burn, bool last) {
        assembly ("memory-safe") {
            let word := calldataload(pos)
            let rule := mload(add(frame, shl(5, shr(248, word))))
            let divisor := and(shr(_DIVISOR_SHIFT, rule), 0xffff)
            price := div(mul(and(rule, _AMOUNT_FIELD_MASK), and(shr(232, word), 0xffff)), divisor)
            burn := iszero(iszero(and(rule, _BURN_BIT)))
            if burn {
                price := shr(_BURN_SHIFT, price)
            }
            last := iszero(iszero(and(byte(0, word), _LAST_ACTION_FLAG)))
        }
    }

    /// @dev The loop, apart from {applyGroups} so that only its own variables are on the stack.
    /// Returns whether every group and action was good and the groups ended where the actions do.
    // Cannot overflow: a rule amount is below 2**88 ({TweiLedger-setRuleSet} refuses more) and
    // units below 2**16, so a price is below 2**104 and a burn's, shifted, below 2**232. Each
    // action costs over 64 gas (its calldata and this loop), so a transaction of less than 2**30
    // gas (EIP-7825 caps it at 2**24) holds fewer than 2**24: a group's mints sum below 2**128
    // (no carry into its burns) and its burns below 2**256.
    function _applyGroupsLoop(uint256 frame, uint256 pos, uint256 recordPtr) private pure returns (bool good) {
        assembly ("memory-safe") {
            let end := mload(add(frame, _X_END))
            let recordsEnd := mload(add(frame, _X_RECORDS_END))
            let posts := add(frame, _POSTS)
            // Tested at the end of each group (a failure zeroes `recordsEnd` to leave).
            if lt(recordPtr, recordsEnd) {
                for {} 1 {} {
                    let account := shr(96, calldataload(pos))
                    if iszero(account) {
                        recordsEnd := 0
                        break
                    }
                    pos := add(pos, _GROUP_HEADER_BYTES)
                    let sum := 0
                    // Up to the action with the last-action flag (the top bit of its word). Past the
                    // end of the actions, calldata reads zeros (units 0, refused) or other bytes
                    // (then the groups cannot end where the actions do).
                    for {} 1 {} {
                        let word := calldataload(pos) // kind (8 bits) | units (16) | post reference (8) | ...
                        let rule := mload(add(frame, shl(5, shr(248, word))))
                        let author := mload(add(posts, shl(5, byte(3, word))))
                        let units := and(shr(232, word), 0xffff)
                        let maxUnits := shr(_MAX_UNITS_SHIFT, rule)
                        // One test for every way an action can be wrong: units out of bounds or an
                        // unknown kind (1 <= units <= bound exactly when bound - units, wrapping,
                        // is below the bound; a bound of 0, an unknown kind's, passes nothing),
                        // the author rule broken (1: must be the post's author, 2: must not be; the
                        // bits above the rule AND to 0), or a post reference past the batch's (no
                        // author).
                        if or(
                            or(
                                iszero(lt(sub(maxUnits, units), maxUnits)),
                                and(shr(_AUTHOR_RULE_SHIFT, rule), add(1, eq(account, author)))
                            ),
                            iszero(author)
                        ) {
                            recordsEnd := 0
                            break
                        }
                        sum := add(
                            sum,
                            div(mul(and(rule, _AMOUNT_FIELD_MASK), units), and(shr(_DIVISOR_SHIFT, rule), 0xffff))
                        )
                        pos := add(pos, _ACTION_BYTES)
                        if sgt(word, not(0)) {
                            continue
                        }
                        break
                    }
                    mstore(recordPtr, account)
                    mstore(add(recordPtr, 0x20), sum)
                    recordPtr := add(recordPtr, 0x40)
                    if iszero(lt(recordPtr, recordsEnd)) {
                        break
                    }
                }
            }
            // A group that ran past the end leaves `pos` past it.
            good := and(iszero(iszero(recordsEnd)), eq(pos, end))
        }
    }

    /// @dev Walks the groups of a batch the loop refused and raises the custom error of its first
    /// fault, in the loop's order (rare path: plain code over the same frame).
    function _revertMalformed(uint256 frame) private pure {
        uint256 pos;
        uint256 end;
        uint256 base;
        uint256 groups;
        assembly ("memory-safe") {
            pos := mload(add(frame, _X_GROUPS))
            end := mload(add(frame, _X_END))
            base := mload(add(frame, _X_BASE))
            groups := shr(240, calldataload(sub(pos, 2)))
        }
        uint256 index;
        for (uint256 g; g < groups; ++g) {
            if (pos + _GROUP_HEADER_BYTES > end) revert ITweiLedger.TweiLedgerMalformedActions(pos - base);
            address account = _accountAt(pos);
            if (account == address(0)) revert ITweiLedger.TweiLedgerZeroAddress();
            pos += _GROUP_HEADER_BYTES;
            bool last;
            while (!last) {
                if (pos + _ACTION_BYTES > end) revert ITweiLedger.TweiLedgerMalformedActions(pos - base);
                last = _checkAction(frame, pos, index, account);
                pos += _ACTION_BYTES;
                ++index;
            }
        }
        revert ITweiLedger.TweiLedgerMalformedActions(pos - base);
    }

    function _accountAt(uint256 pos) private pure returns (address account) {
        assembly ("memory-safe") {
            account := shr(96, calldataload(pos))
        }
    }

    /// @dev Raises the custom error for the action at `pos` (index `index`, of `account`), if any;
    /// returns whether it is the last action of its group.
    function _checkAction(uint256 frame, uint256 pos, uint256 index, address account) private pure returns (bool last) {
        uint256 kind;
        uint256 units;
        uint256 ref;
        uint256 rule;
        address author;
        uint64 postId;
        assembly ("memory-safe") {
            let word := calldataload(pos)
            last := slt(word, 0)
            kind := and(shr(248, word), not(_LAST_ACTION_FLAG))
            units := and(shr(232, word), 0xffff)
            ref := byte(3, word)
            rule := mload(add(frame, shl(5, kind)))
            author := mload(add(add(frame, _POSTS), shl(5, ref)))
            postId := shr(192, calldataload(add(mload(add(frame, _X_REFS)), shl(3, ref))))
        }
        if (rule == 0) revert ITweiLedger.TweiLedgerUnknownKind(index, kind);
        uint256 maxUnits = rule >> _MAX_UNITS_SHIFT;
        if (units == 0 || units > maxUnits) revert ITweiLedger.TweiLedgerUnitsOutOfBounds(index, kind, units, maxUnits);
        if (author == address(0)) revert ITweiLedger.TweiLedgerUnknownPostRef(index, ref);
        uint256 authorRule = (rule >> _AUTHOR_RULE_SHIFT) & 3;
        if (authorRule == 1 && account != author) revert ITweiLedger.TweiLedgerNotPostAuthor(postId, account, author);
        if (authorRule == 2 && account == author) revert ITweiLedger.TweiLedgerSelfAction(index, postId, author);
    }
}
