//! Diagnostics and attribute paths, as reported back to Terraform.

use std::fmt;

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The operation failed.
    Error,
    /// The operation succeeded but the user should know something.
    Warning,
}

/// One step of an [`AttributePath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// Attribute (or nested block) `name` of an object.
    AttributeName(String),
    /// Key of a map.
    ElementKeyString(String),
    /// Index of a list (or set element position).
    ElementKeyInt(i64),
}

/// A path to an attribute inside a config, plan or state value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    /// The empty path (the whole value).
    pub fn root() -> Self {
        AttributePath(Vec::new())
    }

    /// A path to top-level attribute `name`.
    pub fn attr(name: impl Into<String>) -> Self {
        AttributePath(vec![PathStep::AttributeName(name.into())])
    }

    /// Appends an attribute step.
    #[must_use]
    pub fn then_attr(mut self, name: impl Into<String>) -> Self {
        self.0.push(PathStep::AttributeName(name.into()));
        self
    }

    /// Appends a map key step.
    #[must_use]
    pub fn then_key(mut self, key: impl Into<String>) -> Self {
        self.0.push(PathStep::ElementKeyString(key.into()));
        self
    }

    /// Appends a list index step.
    #[must_use]
    pub fn then_index(mut self, index: i64) -> Self {
        self.0.push(PathStep::ElementKeyInt(index));
        self
    }

    /// The steps of this path.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }
}

impl fmt::Display for AttributePath {
    /// Terraform-ish rendering: `a.b[0]["k"]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::AttributeName(n) if i == 0 => write!(f, "{n}")?,
                PathStep::AttributeName(n) => write!(f, ".{n}")?,
                PathStep::ElementKeyString(k) => write!(f, "[{k:?}]")?,
                PathStep::ElementKeyInt(k) => write!(f, "[{k}]")?,
            }
        }
        Ok(())
    }
}

/// A message for the Terraform user. Summaries are short; details explain
/// what happened and what to do. Never put a Rust backtrace or a secret here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One-line summary.
    pub summary: String,
    /// Longer explanation (may be empty).
    pub detail: String,
    /// The attribute the diagnostic is about, if any.
    pub attribute: Option<AttributePath>,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// A warning diagnostic.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// Attaches the attribute this diagnostic is about.
    #[must_use]
    pub fn with_attribute(mut self, path: AttributePath) -> Self {
        self.attribute = Some(path);
        self
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// True if any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}
