//! Hook shim scripts.
