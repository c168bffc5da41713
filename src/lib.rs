//! appiscan: finds personal data as Japan's APPI defines it. The flow runs one way:
//! source (what bytes) → decode (what text) → detect (what findings) → report (who reads it).

pub mod accept;
pub mod config;
pub mod container;
#[doc(hidden)]
pub mod corpus;
pub mod csvout;
pub mod custom;
pub mod decode;
pub mod destination;
pub mod detect;
pub mod documents;
pub mod fold;
pub mod kwscan;
pub mod merge;
pub mod office;
pub mod patterns;
pub mod report;
pub mod risk;
pub mod sarif;
pub mod scan;
pub mod shard;
pub mod source;
pub mod sql;
pub mod state;
pub mod structure;
pub mod topics;
pub mod validate;
pub mod worklist;
