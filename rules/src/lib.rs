//! vouch's policy engine.
//!
//! An enforcement point (a git hook, the server hook, the forge bot) gathers a [`Change`], loads the
//! [`Policy`] of the branch the change goes into, and calls [`evaluate`]; every check turns the
//! change into [`Finding`]s and the [`Verdict`] says what passed. Renderers in [`report`] show the
//! same verdict as text, JSON, SARIF or check-run markdown. This crate never touches the network,
//! argv or hook names.
//!
//! ```
//! use vouch_rules::change::{Change, Point, RefUpdate, UpdateKind};
//! use vouch_rules::policy::{Origin, Policy, PolicyFiles};
//!
//! let policy = Policy::parse(
//!     "[[branch]]\npattern = \"main\"\n",
//!     ".vouch/policy.toml",
//!     Origin::File { origin: "refs/heads/main".into() },
//!     String::new(),
//!     PolicyFiles::new("refs/heads/main"),
//! )?;
//! let mut change = Change::new(Point::PreReceive, 0);
//! change.updates.push(RefUpdate {
//!     name: "refs/heads/main".into(),
//!     old: Some("1".repeat(40)),
//!     new: None,
//!     kind: UpdateKind::Delete,
//!     commits: vec![],
//!     tags: vec![],
//! });
//! let verdict = vouch_rules::evaluate(&policy, &change);
//! assert!(!verdict.passed());
//! assert_eq!(verdict.findings().next().unwrap().rule, "protection.deletion");
//! # Ok::<(), vouch_rules::policy::PolicyError>(())
//! ```

pub mod change;
pub mod check;
pub mod codeowners;
pub mod commit_message;
pub mod finding;
pub mod policy;
pub mod protection;
pub mod report;
pub mod review;
pub mod sanitize;
pub mod secrets;
pub mod signatures;
pub mod verdict;

pub use change::Change;
pub use check::{evaluate, evaluate_with, validate_files, Check, CheckError};
pub use finding::{Finding, Location, Severity};
pub use policy::{Policy, PolicyError};
pub use verdict::{CheckOutcome, Status, Verdict};
