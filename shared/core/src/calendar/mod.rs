//! The calendar the desk works by: Canada's statutory holidays, federal and provincial,
//! computed by rule for any year rather than copied from a yearly list, with the day each
//! jurisdiction actually keeps a holiday that falls on a weekend. Pure date arithmetic: no
//! clock, no time zone, no I/O.

pub mod holidays;
pub mod hours;
pub mod published;
