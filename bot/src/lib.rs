//! vouch-bot: the GitHub App that judges every pull request with the `rules` engine and shows
//! the verdict to reviewers as a check run (README: "The GitHub App").
//!
//! - [`server`]: the webhook (HMAC first), health and metrics endpoints;
//! - [`events`]: which deliveries queue which jobs;
//! - [`queue`]: the durable queue (SQLite, or PostgreSQL for several replicas);
//! - [`worker`]: claiming, judging, retrying, reconciling;
//! - [`evaluate`]: the facts gathered for the engine; [`checkrun`]: the verdict as a check run;
//! - [`github`]: App authentication and the REST calls; [`mirror`]: the bare clones.

pub mod checkrun;
pub mod config;
pub mod evaluate;
pub mod events;
pub mod github;
pub mod merge;
pub mod metrics;
pub mod mirror;
pub mod queue;
pub mod server;
pub mod worker;
