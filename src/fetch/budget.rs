//! Exact sliding-window budget per endpoint. (Being written.)
