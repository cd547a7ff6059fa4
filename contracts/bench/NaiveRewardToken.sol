// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title NaiveRewardToken
/// @notice The baseline of `npm run bench:gas`: a plain OpenZeppelin ERC-20 whose owner
/// mints each reward on its own (`mint`) or as a standard batch (`mintBatch`). Not deployed.
contract NaiveRewardToken is ERC20, Ownable {
    /// @notice The two arrays of {mintBatch} differ in length.
    error NaiveRewardTokenLengthMismatch(uint256 recipients, uint256 amounts);

    constructor(address owner_) ERC20("Naive", "NAIVE") Ownable(owner_) {}

    /// @notice Mints one reward.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @notice Mints one reward per recipient, with a Transfer event each.
    function mintBatch(address[] calldata recipients, uint256[] calldata amounts) external onlyOwner {
        if (recipients.length != amounts.length) revert NaiveRewardTokenLengthMismatch(recipients.length, amounts.length);
        for (uint256 i; i < recipients.length; ++i) {
            _mint(recipients[i], amounts[i]);
        }
    }
}
