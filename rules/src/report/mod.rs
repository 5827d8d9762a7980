//! Renderers: one verdict, shown as terminal text, JSON, SARIF 2.1.0 or check-run markdown.
//! Every renderer passes untrusted text through [`crate::sanitize`] or a format's own escaping.

mod json;
mod markdown;
mod sarif;
mod text;

pub use json::{to_json, JSON_SCHEMA, JSON_SCHEMA_VERSION};
pub use markdown::{escape as escape_markdown, to_markdown};
pub use sarif::to_sarif;
pub use text::{to_text, TextOptions};

/// The output formats every reporting command accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Markdown,
}

/// Render `verdict` in `format`. `text` options apply to the text format only.
pub fn render(verdict: &crate::Verdict, format: Format, text: TextOptions) -> String {
    match format {
        Format::Text => to_text(verdict, text),
        Format::Json => to_json(verdict),
        Format::Sarif => to_sarif(verdict),
        Format::Markdown => to_markdown(verdict),
    }
}

#[cfg(test)]
mod tests;
