//! Static files of the adapters' pages (style sheets and ES modules), compiled into the
//! binary and served from one table per page: any name not in the table is a 404.

/// A static file of a page.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The file name under the page's asset path.
    pub name: &'static str,
    /// The `Content-Type` it is served with; module scripts need a JavaScript type (browsers
    /// check it strictly, and `nosniff` forbids guessing).
    pub content_type: &'static str,
    /// The file's content.
    pub body: &'static str,
}

impl Asset {
    /// An ES module.
    pub const fn js(name: &'static str, body: &'static str) -> Asset {
        Asset {
            name,
            content_type: "text/javascript; charset=utf-8",
            body,
        }
    }

    /// A style sheet.
    pub const fn css(name: &'static str, body: &'static str) -> Asset {
        Asset {
            name,
            content_type: "text/css; charset=utf-8",
            body,
        }
    }

    /// The file called `name` in `table`, if any.
    pub fn find<'a>(table: &'a [Asset], name: &str) -> Option<&'a Asset> {
        table.iter().find(|a| a.name == name)
    }
}
