//! One page of a listing, and how it is cut from an over-fetched read.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, S> {
    pub items: Vec<T>,
    pub next: Option<S>,
}

impl<T, S> Page<T, S> {
    /// A page of `limit` from items read in order with one extra: the extra one, if it came,
    /// only tells that another page follows, which starts after the page's last item
    /// (`start_of`). Asking for one more avoids an empty last page.
    pub fn of_over_fetched(mut items: Vec<T>, limit: u16, start_of: impl Fn(&T) -> S) -> Self {
        let next = if items.len() > usize::from(limit) {
            items.truncate(usize::from(limit));
            items.last().map(start_of)
        } else {
            None
        };
        Page { items, next }
    }
}
