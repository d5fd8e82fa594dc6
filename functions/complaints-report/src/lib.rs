//! `GET /reports/complaints?open_over_days=N&limit=&cursor=`: the open complaints received more
//! than N calendar days ago (0 for all), oldest first, a page at a time, for the quarterly
//! report to the regulator. Supervisors only; agents and players are refused.

use guichet_core::common::paging::PageCursor;
use guichet_core::common::validation::{Rule, ValidationError};
use guichet_core::promises::report::{ComplaintIndex, ComplaintLine, MAX_DAYS};
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::ports::TicketStore;
use guichet_edge::http::{json_response, page_params, unknown_param, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::info_span;

pub const DEFAULT_LIMIT: u16 = 50;
pub const MAX_LIMIT: u16 = 100;

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintPage {
    pub open_over_days: u16,
    pub complaints: Vec<ComplaintLine>,
    pub next_cursor: Option<String>,
}

pub async fn handle<S: TicketStore + ComplaintIndex>(
    desk: &Desk<S>,
    request: Request,
) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |id| info_span!("complaints_report", request_id = %id),
        report(desk, &request),
    )
    .await
}

/// `open_over_days`: a whole number of days from 0 to [`MAX_DAYS`].
fn days(raw: &str) -> Result<u16, ValidationError> {
    raw.parse::<u16>()
        .ok()
        .filter(|d| *d <= MAX_DAYS)
        .ok_or_else(|| {
            ValidationError::new(
                "open_over_days",
                Rule::Range {
                    min: 0,
                    max: i64::from(MAX_DAYS),
                },
            )
        })
}

async fn report<S: TicketStore + ComplaintIndex>(
    desk: &Desk<S>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    let mut open_over_days = None;
    let (limit, start) = page_params(request, (DEFAULT_LIMIT, MAX_LIMIT), |name, value| {
        match name {
            // Given twice, the second would silently win: refused like any bad value.
            "open_over_days" if open_over_days.is_none() => {
                open_over_days = Some(days(value)?);
                Ok(())
            }
            _ => unknown_param(name, value),
        }
    })?;
    let open_over_days =
        open_over_days.ok_or_else(|| ValidationError::new("open_over_days", Rule::Required))?;
    let page = desk
        .open_complaints(&caller, open_over_days, limit, start.as_ref())
        .await?;
    tracing::info!(
        lines = page.items.len(),
        open_over_days,
        "complaints report read"
    );
    Ok(json_response(
        StatusCode::OK,
        &ComplaintPage {
            open_over_days,
            complaints: page.items,
            next_cursor: page.next.as_ref().map(PageCursor::to_cursor),
        },
    ))
}
