// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

/// @title ITwei
/// @notice The Twei reward token: a standard ERC-20 with EIP-2612 permit whose supply only
/// the ledger changes, by minting rewards and burning tributes.
interface ITwei is IERC20, IERC20Permit {
    /// @notice A caller other than the ledger tried to mint or burn.
    /// @param caller The address that called.
    error TweiUnauthorizedLedger(address caller);

    /// @notice The ledger address given at construction was the zero address.
    error TweiInvalidLedger();

    /// @notice The balance records passed to {settleBalances} do not come in pairs.
    /// @param length The length of the records array.
    error TweiMalformedRecords(uint256 length);

    /// @notice The ledger, the only account that may mint and burn.
    function ledger() external view returns (address);

    /// @notice An account's balance and the allowance it granted the ledger, in one call.
    /// @param account The account whose burnable funds are asked for.
    /// @return balance The account's balance.
    /// @return allowance What the account allows the ledger to burn.
    function burnableOf(address account) external view returns (uint256 balance, uint256 allowance);

    /// @notice Applies one settled batch: per account, mints its rewards, then burns its
    /// tributes from the allowance it granted the ledger when the allowance and the balance
    /// cover them all. Emits one Transfer per account for its mints and one for its burns.
    /// @dev Records come in pairs: `[uint256(uint160(account)), burned << 128 | minted]`.
    /// Only the ledger may call.
    /// @param records The per-account balance changes of the batch.
    /// @return minted The batch's mints, in all.
    /// @return burned The batch's burns, in all.
    /// @return uncovered The indexes (record pair number) of the accounts whose burns were not
    /// covered and so not burned; the ledger settles those burn by burn.
    function settleBalances(
        uint256[] calldata records
    ) external returns (uint256 minted, uint256 burned, uint256[] memory uncovered);
}
