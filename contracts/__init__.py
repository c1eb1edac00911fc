"""The contract and its life: signature rounds (the contract, each amendment, each funding
agreement — one signature per organisation, in parallel), amendments, and the contract's own
evaluations (mid-term and final)."""
