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
    function burnableOf(address account) external view returns (uint256 balance, uint256 allowance_) {
        return (balanceOf(account), allowance(account, _ledger));
    }

    /// @inheritdoc ITwei
    function settleBalances(uint256[] calldata records) external {
        if (msg.sender != _ledger) revert TweiUnauthorizedLedger(msg.sender);
        uint256 length = records.length;
        if (length % 2 != 0) revert TweiMalformedRecords(length);
        for (uint256 i; i < length; i += 2) {
            address account = address(uint160(records[i]));
            uint256 amounts = records[i + 1];
            uint256 minted = amounts >> 128;
            uint256 burned = uint128(amounts);
            if (minted != 0) _mint(account, minted);
            if (burned != 0) {
                _spendAllowance(account, _ledger, burned);
                _burn(account, burned);
            }
        }
    }

    /// @inheritdoc ERC20Permit
    function nonces(address owner) public view override(ERC20Permit, IERC20Permit) returns (uint256) {
        return super.nonces(owner);
    }
}
