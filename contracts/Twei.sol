// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {ITwei} from "./interfaces/ITwei.sol";

/// @title Twei
/// @notice The Twei reward token: ERC-20 with EIP-2612 permit, 18 decimals. Only the
/// ledger mints and burns, and it burns only what an account allowed it to.
contract Twei is ERC20, ERC20Permit, ITwei {
    address private immutable _ledger;

    // Storage of OpenZeppelin ERC20 5.x, the first base contract (see {settleBalances}).
    uint256 private constant _BALANCES_SLOT = 0;
    uint256 private constant _ALLOWANCES_SLOT = 1;
    uint256 private constant _TOTAL_SUPPLY_SLOT = 2;
    // keccak256("Transfer(address,address,uint256)")
    bytes32 private constant _TRANSFER_TOPIC = 0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef;

    /// @param ledger_ The ledger, the only account that may mint and burn.
    constructor(address ledger_) ERC20("Twei", "TWEI") ERC20Permit("Twei") {
        if (ledger_ == address(0)) revert TweiInvalidLedger();
        _ledger = ledger_;
    }

    /// @inheritdoc ITwei
    function ledger() external view returns (address) {
        return _ledger;
    }

    /// @inheritdoc ITwei
    /// @dev The ledger asks this once per account with a tribute in a batch, so it reads the
    /// two slots directly (see {settleBalances} for the layout).
    function burnableOf(address account) external view returns (uint256 balance_, uint256 allowance_) {
        address ledger_ = _ledger;
        assembly ("memory-safe") {
            account := and(account, 0xffffffffffffffffffffffffffffffffffffffff)
            mstore(0, account)
            mstore(0x20, _BALANCES_SLOT)
            balance_ := sload(keccak256(0, 0x40))
            mstore(0x20, _ALLOWANCES_SLOT)
            mstore(0x20, keccak256(0, 0x40))
            mstore(0, ledger_)
            allowance_ := sload(keccak256(0, 0x40))
        }
    }

    /// @inheritdoc ITwei
    /// @dev A batch credits hundreds of accounts, so this writes OpenZeppelin ERC20's storage
    /// directly instead of calling `_mint`/`_burn` per account (which would rewrite the total
    /// supply each time). ERC20 5.x is the first base contract: `_balances` is slot 0,
    /// `_allowances` slot 1 and `_totalSupply` slot 2. The effects are exactly `_mint`, then
    /// `_spendAllowance` and `_burn`: the same Transfer events, an infinite allowance left
    /// untouched. Every balance, allowance and supply test checks this.
    function settleBalances(
        uint256[] calldata records
    ) external returns (uint256 minted, uint256 burned, uint256[] memory uncovered) {
        address ledger_ = _ledger;
        if (msg.sender != ledger_) revert TweiUnauthorizedLedger(msg.sender);
        uint256 length = records.length;
        if (length % 2 != 0) revert TweiMalformedRecords(length);
        uint256 uncoveredPtr;
        (minted, burned, uncoveredPtr) = _applyRecords(records, ledger_);
        assembly ("memory-safe") {
            uncovered := uncoveredPtr
        }
        uint256 supply;
        assembly ("memory-safe") {
            supply := sload(_TOTAL_SUPPLY_SLOT)
        }
        // Checked: the supply, like `_mint`'s, must not overflow.
        supply = supply + minted - burned;
        assembly ("memory-safe") {
            sstore(_TOTAL_SUPPLY_SLOT, supply)
        }
    }

    /// @dev The loop of {settleBalances}; returns the totals and a memory array of the uncovered
    /// records' indexes.
    // Cannot overflow: mints and burns are below 2**128 each (they are unpacked from 128 bits)
    // and at most 2**31 records fit in calldata; a balance is at most the total supply, whose own
    // sum {settleBalances} checks.
    function _applyRecords(
        uint256[] calldata records,
        address ledger_
    ) private returns (uint256 minted, uint256 burned, uint256 uncovered) {
        assembly ("memory-safe") {
            // The uncovered records' indexes go after the free memory pointer, which moves past
            // them at the end: memory grows only when an account is uncovered.
            uncovered := mload(0x40)
            mstore(uncovered, 0)
            // Slot 0x20 of the scratch space holds the balances' slot between keccaks; the burn
            // path borrows it and puts it back.
            mstore(0x20, _BALANCES_SLOT)
            let end := add(records.offset, shl(5, records.length))
            let p := records.offset
            // Tested at the end of each record.
            if lt(p, end) {
                for {} 1 {} {
                    // The ledger writes clean addresses (the upper 96 bits zero).
                    let account := calldataload(p)
                    let amounts := calldataload(add(p, 0x20)) // burned << 128 | minted
                    mstore(0, account)
                    let balanceSlot := keccak256(0, 0x40)
                    let mint := and(amounts, 0xffffffffffffffffffffffffffffffff)
                    let held := add(sload(balanceSlot), mint)
                    if mint {
                        mstore(0, mint)
                        log3(0, 0x20, _TRANSFER_TOPIC, 0, account)
                        minted := add(minted, mint)
                    }
                    amounts := shr(128, amounts) // now the burn
                    if amounts {
                        mstore(0, account)
                        mstore(0x20, _ALLOWANCES_SLOT)
                        mstore(0x20, keccak256(0, 0x40))
                        mstore(0, ledger_)
                        let allowanceSlot := keccak256(0, 0x40)
                        mstore(0x20, _BALANCES_SLOT)
                        let allowed := sload(allowanceSlot)
                        switch or(gt(amounts, allowed), gt(amounts, held))
                        case 0 {
                            // _spendAllowance(account, ledger, burn), then _burn(account, burn)
                            if iszero(eq(allowed, not(0))) {
                                sstore(allowanceSlot, sub(allowed, amounts))
                            }
                            held := sub(held, amounts)
                            mstore(0, amounts)
                            log3(0, 0x20, _TRANSFER_TOPIC, account, 0)
                            burned := add(burned, amounts)
                        }
                        default {
                            // Not covered: nothing burned; the ledger decides burn by burn.
                            let count := add(mload(uncovered), 1)
                            mstore(uncovered, count)
                            mstore(add(uncovered, shl(5, count)), shr(6, sub(p, records.offset)))
                        }
                    }
                    sstore(balanceSlot, held)
                    p := add(p, 0x40)
                    if iszero(lt(p, end)) {
                        break
                    }
                }
            }
            mstore(0x40, add(uncovered, shl(5, add(mload(uncovered), 1))))
        }
    }

    /// @inheritdoc ERC20Permit
    function nonces(address owner) public view override(ERC20Permit, IERC20Permit) returns (uint256) {
        return super.nonces(owner);
    }
}
