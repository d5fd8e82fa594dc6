//! The one error of the desk's bundled configuration files (its hours, its promises): where in
//! the file, and the rule it breaks, so that whoever edits the file is told what to fix.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{path}: {rule}")]
    Invalid { path: String, rule: &'static str },
}

/// The refusal of the value at `path` (`channels.chat.weekly.monday[0]`) for `rule`.
pub fn invalid(path: impl Into<String>, rule: &'static str) -> SettingsError {
    SettingsError::Invalid {
        path: path.into(),
        rule,
    }
}
