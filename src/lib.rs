//! service-order-gateway (skeleton: being written)
#![allow(missing_docs)]

pub mod calendar;
pub mod clock;
pub mod model;
pub mod simulator;
