//! Pages of newest-first listings: the `cursor` and `limit` query parameters, and the cursor
//! of the next page. Every paginated resource parses them here, so all agree on defaults,
//! clamping and the error for a foreign cursor.

use super::cursor::Cursor;
use crate::error::{ApiError, ApiResult, FieldError};
use serde::Deserialize;

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 20;
/// Larger page sizes are clamped to this.
pub const MAX_LIMIT: usize = 50;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PageParams {
    pub cursor: Option<String>,
    /// Default 20, at most 50.
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

impl PageParams {
    /// The page size and the id of the last item of the previous page, for listings that are
    /// newest first by id.
    pub fn parse(&self) -> ApiResult<(usize, Option<String>)> {
        let mut errors = Vec::new();
        let limit = parse_limit(self.limit.as_deref(), &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let before = match self.cursor.as_deref().map(Cursor::decode) {
            None => None,
            Some(Ok(Cursor::Before { id })) => Some(id),
            Some(_) => return Err(invalid_cursor()),
        };
        Ok((limit, before))
    }
}

/// The cursor of the page after `items` when one more than `limit` was fetched.
pub fn next_page<T>(items: &mut Vec<T>, limit: usize, id: impl Fn(&T) -> &str) -> Option<String> {
    if items.len() > limit {
        items.truncate(limit);
        items.last().map(|item| Cursor::Before { id: id(item).to_owned() }.encode())
    } else {
        None
    }
}

pub fn invalid_cursor() -> ApiError {
    ApiError::bad_request("invalid_cursor", "the cursor is not one this server issued")
}

pub fn parse_limit(raw: Option<&str>, errors: &mut Vec<FieldError>) -> usize {
    match raw.map(str::parse::<i64>) {
        None => DEFAULT_LIMIT,
        // Out-of-range sizes are clamped, as on every paginated resource.
        Some(Ok(limit)) => limit.clamp(1, MAX_LIMIT as i64) as usize,
        Some(Err(_)) => {
            errors.push(FieldError { field: "limit".into(), message: "must be an integer".into() });
            DEFAULT_LIMIT
        }
    }
}
