//! The one TLS crypto provider of the process: rustls on `ring`, installed before any HTTPS
//! client or `rediss://` connection is built.
//!
//! reqwest is built without a provider of its own (its default, aws-lc, dominated a fresh
//! build), so it panics if none is installed; every constructor that reaches TLS calls
//! [`install`] first, which makes library callers (tests, benches) safe as well as `main`.

/// Installs rustls's `ring` provider as the process default. Idempotent: a provider already
/// installed (by an earlier call, or a racing thread) is kept.
pub fn install() {
    // The error only says a default is already there, which is what was wanted.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
