//! XML in and out: responses are written with `quick-xml` (which escapes
//! text and attribute values), requests are read with `roxmltree`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::model::ApiError;

/// Builds a document: `Xml::doc("GetChangeResponse", NS, |x| ...)`.
pub struct Xml {
    w: Writer<Vec<u8>>,
}

impl std::fmt::Debug for Xml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Xml")
            .field("bytes", &self.w.get_ref().len())
            .finish()
    }
}

impl Xml {
    /// A whole document: the declaration, then `root` in namespace `ns`
    /// holding what `body` writes.
    pub fn doc(root: &str, ns: &str, body: impl FnOnce(&mut Xml)) -> String {
        let mut x = Xml {
            w: Writer::new(Vec::new()),
        };
        x.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        x.event(Event::Text(BytesText::from_escaped("\n")));
        x.event(Event::Start(
            BytesStart::new(root).with_attributes([("xmlns", ns)]),
        ));
        body(&mut x);
        x.event(Event::End(BytesEnd::new(root)));
        String::from_utf8_lossy(&x.w.into_inner()).into_owned()
    }

    /// `<name>...</name>` holding what `body` writes.
    pub fn el(&mut self, name: &str, body: impl FnOnce(&mut Xml)) -> &mut Self {
        self.event(Event::Start(BytesStart::new(name)));
        body(self);
        self.event(Event::End(BytesEnd::new(name)));
        self
    }

    /// `<name>value</name>`, the value escaped.
    pub fn text(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        let value = value.to_string();
        self.event(Event::Start(BytesStart::new(name)));
        self.event(Event::Text(BytesText::new(&value)));
        self.event(Event::End(BytesEnd::new(name)));
        self
    }

    /// [`Xml::text`] when there is a value.
    pub fn opt_text(&mut self, name: &str, value: Option<impl std::fmt::Display>) -> &mut Self {
        if let Some(v) = value {
            self.text(name, v);
        }
        self
    }

    fn event(&mut self, e: Event<'_>) {
        // Writing into a Vec<u8> cannot fail.
        self.w
            .write_event(e)
            .unwrap_or_else(|e| unreachable!("writing XML to memory: {e}"));
    }
}

/// An XML response.
pub fn response(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            ("content-type", "text/xml"),
            ("x-amzn-requestid", "r53world"),
        ],
        body,
    )
        .into_response()
}

/// An AWS error response (`ErrorResponse` in namespace `ns`).
pub fn error(ns: &str, e: &ApiError) -> Response {
    let kind = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    let body = Xml::doc("ErrorResponse", ns, |x| {
        x.el("Error", |x| {
            x.text("Type", kind)
                .text("Code", e.code)
                .text("Message", &e.message);
        })
        .text("RequestId", super::request_id());
    });
    response(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        body,
    )
}

/// Parses a request body.
pub fn parse(body: &[u8]) -> Result<roxmltree::Document<'_>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad("InvalidInput", "request body is not UTF-8"))?;
    roxmltree::Document::parse(text)
        .map_err(|e| ApiError::bad("InvalidInput", format!("Invalid XML: {e}")))
}

/// The text of the first child element `tag` (empty when it has none).
pub fn child_text<'a>(n: roxmltree::Node<'a, 'a>, tag: &str) -> Option<&'a str> {
    child(n, tag).map(|c| c.text().unwrap_or(""))
}

/// The first child element `tag`.
pub fn child<'a>(n: roxmltree::Node<'a, 'a>, tag: &str) -> Option<roxmltree::Node<'a, 'a>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_reads_back() {
        let s = Xml::doc("R", "urn:x", |x| {
            x.text("Comment", "a <b> & \"c\"");
        });
        assert!(
            s.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R xmlns=\"urn:x\">"),
            "{s}"
        );
        assert!(s.contains("a &lt;b&gt; &amp;"), "{s}");
        let doc = parse(s.as_bytes()).expect("well-formed");
        assert_eq!(
            child_text(doc.root_element(), "Comment"),
            Some("a <b> & \"c\"")
        );
    }
}
