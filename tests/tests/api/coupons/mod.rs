//! First-come coupons: the rules of a claim, storms of claims racing on one or two instances,
//! faults in the middle of a storm, and the gate's contract.

mod faults;
mod gate_contract;
mod rules;
mod storm;
mod support;
