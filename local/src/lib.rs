pub fn x() {}
pub mod provision;
pub mod template;
