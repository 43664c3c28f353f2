//! The API-visible error of an operation, and the common ones.

use super::accounts::Principal;
use super::operation::Operation;

/// The API-visible error of an operation.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(400, code, message)
    }
}

pub fn no_such_zone(id: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchHostedZone",
        format!("No hosted zone found with ID: {id}"),
    )
}

pub fn access_denied(p: &Principal, action: Operation, resource: &str) -> ApiError {
    ApiError::new(
        403,
        "AccessDenied",
        format!(
            "User: {} is not authorized to perform: route53:{action} on resource: {resource}",
            p.arn()
        ),
    )
}
