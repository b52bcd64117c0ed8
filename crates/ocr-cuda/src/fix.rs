//! The repair build.rs routes generated shape-`Concat` inputs through: integer tensors are
//! read back to the host as `i64`s, shape arrays pass through.

use burn::prelude::*;

/// A shape part as `i64`s.
pub trait I64s {
    /// The values.
    fn i64s(&self) -> Vec<i64>;
}

impl<const N: usize> I64s for [i64; N] {
    fn i64s(&self) -> Vec<i64> {
        self.to_vec()
    }
}

impl<Bk: Backend, const D: usize> I64s for Tensor<Bk, D, Int> {
    fn i64s(&self) -> Vec<i64> {
        self.to_data().iter::<i64>().collect()
    }
}
