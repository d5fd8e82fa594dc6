//! The desk's promises to players: how long each kind of answer may take, by channel and
//! priority, and the complaint clock's terms, as configuration. The clocks that run on them
//! count business time on the channels' hours (`crate::calendar::hours`).

pub mod clocks;
pub mod extension;
pub mod policy;
pub mod report;
pub mod sweep;
