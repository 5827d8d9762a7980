//! vouch's policy engine.
//!
//! An enforcement point (a git hook, the server hook, the forge bot) gathers a [`Change`] — the
//! ref updates, the commits they bring with their raw objects, who pushed, and for a pull
//! request the forge's facts ([`change::PullRequest`]) — and reads the [`Policy`] of the branch
//! the change goes into. An [`Engine`] built once from that policy judges any number of changes;
//! every check turns a change into [`Finding`]s and the [`Verdict`] says what passed, which
//! policy (by the digest of all its files) and clock judged, and what was verified
//! ([`Evidence`]: each commit's signer and key, each approval and whether it counted).
//! Renderers in [`report`] show the same verdict as text, JSON, SARIF or check-run markdown.
//! This crate never touches the network, argv or hook names.
//!
//! ```
//! use vouch_rules::change::{Change, Clock, RefUpdate, Stage, UpdateKind};
//! use vouch_rules::policy::{Origin, Policy, PolicyFiles};
//! use vouch_rules::Engine;
//!
//! let policy = Policy::parse(
//!     "[[branch]]\npattern = \"main\"\n",
//!     ".vouch/policy.toml",
//!     Origin::File { origin: "refs/heads/main".into() },
//!     String::new(),
//!     PolicyFiles::new("refs/heads/main"),
//! )?;
//! let engine = Engine::new(policy);
//! assert!(engine.prepare().is_empty(), "every policy file loads");
//!
//! let mut change = Change::new(Stage::Push, 1_769_821_200);
//! assert_eq!(change.clock, Clock::PushTime);
//! change.updates.push(RefUpdate {
//!     name: "refs/heads/main".into(),
//!     old: Some("1".repeat(40)),
//!     new: None,
//!     kind: UpdateKind::Delete,
//!     commits: vec![],
//!     tags: vec![],
//! });
//! let verdict = engine.evaluate(&change);
//! assert!(!verdict.passed());
//! assert_eq!(verdict.findings().next().unwrap().rule, "protection.deletion");
//! assert_eq!(verdict.judged_at, "2026-01-31T01:00:00Z");
//! # Ok::<(), vouch_rules::policy::PolicyError>(())
//! ```

pub mod attest;
pub mod change;
pub mod check;
pub mod codeowners;
mod commit_message;
pub mod engine;
pub mod finding;
pub mod policy;
mod protection;
pub mod report;
pub mod review;
pub mod sanitize;
pub mod secrets;
pub mod signatures;
pub mod time;
pub mod verdict;

pub use change::Change;
pub use check::{Check, CheckError};
pub use engine::{evaluate, validate_files, Engine};
pub use finding::{Finding, Location, Severity};
pub use policy::{Policy, PolicyError};
pub use verdict::{CheckOutcome, Evidence, PolicySource, Status, Verdict};
