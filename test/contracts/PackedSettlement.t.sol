// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SSTORE2} from "solady/src/utils/SSTORE2.sol";
import {ITweiLedger} from "../../contracts/interfaces/ITweiLedger.sol";
import {PackedSettlement} from "../../contracts/libraries/PackedSettlement.sol";

/// @dev Runs the settlement loop over real calldata: the frame {TweiLedger} lays out, with the
/// given rule set and referenced posts' authors, and the account groups of a batch.
contract PackedSettlementHarness {
    /// @param groups accountCount:uint16, then the account groups (layout in {ITweiLedger}).
    function records(
        uint128[13] calldata amounts,
        uint16[13] calldata maxUnits,
        address[] calldata authors,
        bytes calldata refIds,
        bytes calldata groups
    ) external returns (uint256[] memory) {
        uint256 frame = PackedSettlement.allocateFrame();
        PackedSettlement.loadRuleWords(frame, SSTORE2.write(PackedSettlement.ruleWords(amounts, maxUnits)));
        for (uint256 ref; ref < authors.length; ++ref) PackedSettlement.setPostRef(frame, ref, authors[ref]);
        uint256 refsPos;
        uint256 base;
        assembly ("memory-safe") {
            refsPos := refIds.offset
            base := groups.offset
        }
        PackedSettlement.setRefsPosition(frame, refsPos);
        PackedSettlement.setContext(frame, base, base + groups.length, 1, address(0));
        return PackedSettlement.applyGroups(frame, base);
    }
}

/// @dev Fuzz tests of the settlement maths: pricing by the rule set, one record per account with
/// its mints and burns apart, and the refusal of every action outside the rules.
contract PackedSettlementTest {
    address private constant _ACCOUNT = address(0xA11CE);
    address private constant _OTHER = address(0xB0B);
    uint256 private constant _MAX_AMOUNT = (1 << 88) - 1;
    uint256 private constant _LAST = 0x80;

    PackedSettlementHarness private _harness;

    function setUp() public {
        _harness = new PackedSettlementHarness();
    }

    /// Post reference 0 is by the account, 1 by someone else.
    function _authors() private pure returns (address[] memory authors) {
        authors = new address[](2);
        authors[0] = _ACCOUNT;
        authors[1] = _OTHER;
    }

    function _refIds() private pure returns (bytes memory) {
        return abi.encodePacked(uint64(1001), uint64(1002));
    }

    /// A post reference the kind's author rule allows for the account: its own post for the
    /// author-directed kinds (1, 5, 6, 11), another's for reads and minuses (0, 7).
    function _refFor(uint256 kind, uint256 random) private pure returns (uint8) {
        if (kind == 1 || kind == 5 || kind == 6 || kind == 11) return 0;
        if (kind == 0 || kind == 7) return 1;
        return uint8(random % 2);
    }

    /// One account's group of `kinds.length` actions.
    function _group(
        uint8[] memory kinds,
        uint16[] memory units,
        uint8[] memory refs
    ) private pure returns (bytes memory out) {
        out = new bytes(2 + 20 + 4 * kinds.length);
        out[1] = 0x01;
        bytes20 account = bytes20(_ACCOUNT);
        for (uint256 i; i < 20; ++i) out[2 + i] = account[i];
        for (uint256 i; i < kinds.length; ++i) {
            uint256 at = 22 + 4 * i;
            out[at] = bytes1(uint8(kinds[i] | (i == kinds.length - 1 ? _LAST : 0)));
            out[at + 1] = bytes1(uint8(units[i] >> 8));
            out[at + 2] = bytes1(uint8(units[i]));
            out[at + 3] = bytes1(refs[i]);
        }
    }

    /// The widest unit bounds: a full read for Read-to-Earn, any 16-bit count otherwise.
    function _wideBounds() private pure returns (uint16[13] memory bounds) {
        bounds[0] = 10_000;
        for (uint256 kind = 1; kind < 13; ++kind) bounds[kind] = type(uint16).max;
    }

    function _priceOf(uint256 amount, uint256 kind, uint256 units) private pure returns (uint256) {
        return kind == 0 ? (amount * units) / 10_000 : amount * units;
    }

    function testFuzz_sumsEachAccountsMintsAndBurnsByTheRuleSet(
        uint128[13] memory amounts,
        uint256 seed,
        uint8 length
    ) public {
        for (uint256 kind; kind < 13; ++kind) amounts[kind] = uint128(amounts[kind] % (_MAX_AMOUNT + 1));
        uint256 count = 1 + (length % 64);
        uint8[] memory kinds = new uint8[](count);
        uint16[] memory units = new uint16[](count);
        uint8[] memory refs = new uint8[](count);
        uint256 minted;
        uint256 burned;
        for (uint256 i; i < count; ++i) {
            uint256 random = uint256(keccak256(abi.encode(seed, i)));
            uint256 kind = random % 13;
            kinds[i] = uint8(kind);
            units[i] = uint16(kind == 0 ? 1 + ((random >> 8) % 10_000) : 1 + ((random >> 8) % 65_535));
            refs[i] = _refFor(kind, random >> 40);
            uint256 price = _priceOf(amounts[kind], kind, units[i]);
            if (kind < 7) minted += price;
            else burned += price;
        }
        uint256[] memory got = _harness.records(amounts, _wideBounds(), _authors(), _refIds(), _group(kinds, units, refs));
        require(got.length == 2, "one record per account");
        require(got[0] == uint160(_ACCOUNT), "the record names the account");
        require(got[1] == (burned << 128) | minted, "mints in the low, burns in the high 128 bits");
    }

    function testFuzz_keepsTheLargestSumsApart(uint16 mintCount, uint16 burnCount) public {
        uint256 mints = 1 + (mintCount % 1_500);
        uint256 burns = 1 + (burnCount % 1_500);
        uint128[13] memory amounts;
        for (uint256 kind; kind < 13; ++kind) amounts[kind] = uint128(_MAX_AMOUNT);
        uint8[] memory kinds = new uint8[](mints + burns);
        uint16[] memory units = new uint16[](mints + burns);
        uint8[] memory refs = new uint8[](mints + burns);
        for (uint256 i; i < mints + burns; ++i) {
            kinds[i] = i < mints ? 2 : 8; // Comment Rewards, Comment Tributes
            units[i] = type(uint16).max;
        }
        uint256[] memory got = _harness.records(amounts, _wideBounds(), _authors(), _refIds(), _group(kinds, units, refs));
        uint256 each = _MAX_AMOUNT * type(uint16).max;
        require(got[1] & type(uint128).max == mints * each, "every mint, no carry");
        require(got[1] >> 128 == burns * each, "every burn");
    }

    function testFuzz_refusesAnActionOutsideTheRules(
        uint8 kindByte,
        uint16 units,
        bool othersPost,
        uint16 bound
    ) public {
        uint256 kind = kindByte & 0x7f;
        uint16[13] memory bounds = _wideBounds();
        if (kind < 13) bounds[kind] = kind == 0 ? bound % 10_001 : bound;
        uint8[] memory kinds = new uint8[](1);
        uint16[] memory unitsOf = new uint16[](1);
        uint8[] memory refs = new uint8[](1);
        kinds[0] = uint8(kind);
        unitsOf[0] = units;
        refs[0] = othersPost ? 1 : 0;
        bytes memory expected;
        if (kind > 12) expected = abi.encodeWithSelector(ITweiLedger.TweiLedgerUnknownKind.selector, 0, kind);
        else if (units == 0 || units > bounds[kind])
            expected = abi.encodeWithSelector(
                ITweiLedger.TweiLedgerUnitsOutOfBounds.selector,
                0,
                kind,
                units,
                bounds[kind]
            );
        else if (othersPost && (kind == 1 || kind == 5 || kind == 6 || kind == 11))
            expected = abi.encodeWithSelector(ITweiLedger.TweiLedgerNotPostAuthor.selector, 1002, _ACCOUNT, _OTHER);
        else if (!othersPost && (kind == 0 || kind == 7))
            expected = abi.encodeWithSelector(ITweiLedger.TweiLedgerSelfAction.selector, 0, 1001, _ACCOUNT);
        uint128[13] memory amounts;
        try _harness.records(amounts, bounds, _authors(), _refIds(), _group(kinds, unitsOf, refs)) returns (
            uint256[] memory
        ) {
            require(expected.length == 0, "an action outside the rules was settled");
        } catch (bytes memory reason) {
            require(keccak256(reason) == keccak256(expected), "refused with another error than expected");
        }
    }

    function testFuzz_refusesAGroupThatRunsPastTheEnd(uint8 kind, uint16 units) public {
        uint8[] memory kinds = new uint8[](1);
        uint16[] memory unitsOf = new uint16[](1);
        uint8[] memory refs = new uint8[](1);
        kinds[0] = uint8(kind % 13);
        unitsOf[0] = kinds[0] == 0 ? 1 + (units % 10_000) : 1 + (units % 65_535);
        refs[0] = _refFor(kinds[0], units);
        bytes memory group = _group(kinds, unitsOf, refs);
        group[22] = bytes1(uint8(group[22]) & 0x7f); // no last-action flag: the group runs on
        uint128[13] memory amounts;
        try _harness.records(amounts, _wideBounds(), _authors(), _refIds(), group) returns (uint256[] memory) {
            revert("a group without its last action was settled");
        } catch (bytes memory reason) {
            bytes memory expected = abi.encodeWithSelector(ITweiLedger.TweiLedgerMalformedActions.selector, 26);
            require(keccak256(reason) == keccak256(expected), "refused with another error than expected");
        }
    }
}
