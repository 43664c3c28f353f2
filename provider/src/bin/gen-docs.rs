//! `gen-docs`: renders the provider's registry documentation (the layout
//! `tfplugindocs` produces) from the schemas, the templates and the examples.
//!
//! ```text
//! gen-docs [--root DIR] [--out DIR]
//! ```
//!
//! `--root` is the repository (default: this crate's parent directory), where
//! `templates/` and `examples/` are read; `--out` is where the pages are
//! written (default: `ROOT/docs`):
//!
//! - `index.md` from `templates/index.md.tmpl`;
//! - `resources/*.md` and `data-sources/*.md` from the schemas and their
//!   examples;
//! - `guides/NAME.md`, one per `templates/guides/NAME.md` and one per
//!   example with a `README.md` (`examples/NAME/README.md`, its `main.tf`
//!   after it).
//!
//! Templates and guides are markdown starting with a `# Title` line, where
//! `{{include PATH}}` stands for the text of a repository file (a policy, an
//! example) and, in the index only, `{{description}}` for the provider
//! schema's description and `{{schema}}` for its rendered schema. The output
//! depends only on the schemas and these files, so `scripts/docs.sh --check`
//! can compare it with the committed docs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use route53delegation_provider::data_sources::check;
use route53delegation_provider::protocol::{Attribute, Block, NestedBlock, NestingMode, Type};
use route53delegation_provider::provider_impl::provider_schema;
use route53delegation_provider::resources::link;

const PROVIDER_NAME: &str = "route53delegation";

fn main() -> Result<()> {
    let mut root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("crate directory has no parent")?
        .to_path_buf();
    let mut out: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--root" => root = PathBuf::from(args.next().context("--root needs a directory")?),
            "--out" => {
                out = Some(PathBuf::from(
                    args.next().context("--out needs a directory")?,
                ))
            }
            "-h" | "--help" => {
                eprintln!("usage: gen-docs [--root DIR] [--out DIR]");
                return Ok(());
            }
            other => bail!("unknown argument {other:?}; usage: gen-docs [--root DIR] [--out DIR]"),
        }
    }
    let out = out.unwrap_or_else(|| root.join("docs"));
    for (rel, text) in render(&root)? {
        let path = out.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Every documentation page: (path relative to the docs directory, text).
fn render(root: &Path) -> Result<Vec<(String, String)>> {
    let read = |rel: &str| -> Result<String> {
        let p = root.join(rel);
        let t = std::fs::read_to_string(&p).with_context(|| format!("read {}", p.display()))?;
        Ok(t.trim_end().to_string())
    };
    let mut pages = Vec::new();

    // The provider: the index template around the provider's schema.
    let schema = provider_schema();
    let index_tmpl = "templates/index.md.tmpl";
    let text = read(index_tmpl)?;
    let (title, body) = split_title(index_tmpl, &text)?;
    let body = expand(
        root,
        index_tmpl,
        &body,
        &[
            ("description", schema.block.description.trim()),
            ("schema", render_schema(&schema.block).trim_end()),
        ],
    )?;
    let summary = first_paragraph(&body);
    let mut md = frontmatter(&format!("{PROVIDER_NAME} Provider"), None, &summary);
    let _ = writeln!(md, "# {title}\n{}", body.trim_end());
    pages.push(("index.md".to_string(), md));

    // The resources.
    let ty = link::TYPE_NAME;
    let short = ty.strip_prefix(&format!("{PROVIDER_NAME}_")).unwrap_or(ty);
    let dir = format!("examples/resources/{ty}");
    let schema = link::schema();
    let mut md = frontmatter(
        &format!("{ty} Resource - {PROVIDER_NAME}"),
        Some(""),
        &schema.block.description,
    );
    let _ = write!(
        md,
        "# {ty} (Resource)\n\n{}\n\n## Example Usage\n\n```terraform\n{}\n```\n\n",
        schema.block.description.trim(),
        read(&format!("{dir}/resource.tf"))?
    );
    md.push_str(&render_schema(&schema.block));
    let _ = write!(
        md,
        "\n## Import\n\nImport is supported using the following syntax:\n\n```shell\n{}\n```\n",
        read(&format!("{dir}/import.sh"))?
    );
    let by_id = format!("{dir}/import-by-string-id.tf");
    if root.join(&by_id).exists() {
        let _ = write!(
            md,
            "\nIn Terraform v1.5.0 and later, the [`import` block](https://developer.hashicorp.com/terraform/language/import) can be used with the same ID:\n\n```terraform\n{}\n```\n",
            read(&by_id)?
        );
    }
    pages.push((format!("resources/{short}.md"), md));

    // The data sources.
    let data_sources = vec![(check::TYPE_NAME, check::schema())];
    for (ty, schema) in data_sources {
        let short = ty.strip_prefix(&format!("{PROVIDER_NAME}_")).unwrap_or(ty);
        let mut md = frontmatter(
            &format!("{ty} Data Source - {PROVIDER_NAME}"),
            Some(""),
            &schema.block.description,
        );
        let _ = write!(
            md,
            "# {ty} (Data Source)\n\n{}\n\n## Example Usage\n\n```terraform\n{}\n```\n\n",
            schema.block.description.trim(),
            read(&format!("examples/data-sources/{ty}/data-source.tf"))?
        );
        md.push_str(&render_schema(&schema.block));
        pages.push((format!("data-sources/{short}.md"), md));
    }

    // The plain guides: every templates/guides/NAME.md.
    let mut plain: Vec<String> = match std::fs::read_dir(root.join("templates/guides")) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".md"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).context("read templates/guides/"),
    };
    plain.sort();
    for file in plain {
        let rel = format!("templates/guides/{file}");
        let text = read(&rel)?;
        let (title, body) = split_title(&rel, &text)?;
        let body = expand(root, &rel, &body, &[])?;
        let mut md = frontmatter(&title, Some("Guides"), &title);
        let _ = writeln!(md, "# {title}\n{}", body.trim_end());
        pages.push((format!("guides/{file}"), md));
    }

    // The guides: every example with a README, its configuration after it.
    let mut guides: Vec<String> = std::fs::read_dir(root.join("examples"))
        .context("read examples/")?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("README.md").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    guides.sort();
    for name in guides {
        let readme = read(&format!("examples/{name}/README.md"))?;
        let Some(title) = readme
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# "))
            .map(str::to_string)
        else {
            bail!("examples/{name}/README.md must start with a '# ' title");
        };
        let body = readme.lines().skip(1).collect::<Vec<_>>().join("\n");
        let mut md = frontmatter(&title, Some("Guides"), &title);
        let _ = write!(
            md,
            "# {title}\n{}\n\n## Configuration\n\n`examples/{name}/main.tf` in the repository:\n\n```terraform\n{}\n```\n",
            body.trim_end(),
            read(&format!("examples/{name}/main.tf"))?,
        );
        let page = format!("guides/{name}.md");
        if pages.iter().any(|(p, _)| *p == page) {
            bail!("examples/{name}/README.md and templates/guides/{name}.md both make docs/{page}: rename one");
        }
        pages.push((page, md));
    }
    Ok(pages)
}

/// A template's `# Title` line and the text after it.
fn split_title(rel: &str, text: &str) -> Result<(String, String)> {
    let Some(title) = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# "))
        .map(str::to_string)
    else {
        bail!("{rel} must start with a '# ' title");
    };
    Ok((title, text.lines().skip(1).collect::<Vec<_>>().join("\n")))
}

/// The template `text` (read from `rel`) with every `{{include PATH}}`
/// replaced by that repository file's text and every `{{NAME}}` by its
/// value in `vars`; anything else between `{{` and `}}` is an error.
fn expand(root: &Path, rel: &str, text: &str, vars: &[(&str, &str)]) -> Result<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            bail!("{rel}: '{{{{' without '}}}}'");
        };
        let directive = after[..end].trim();
        if let Some(path) = directive.strip_prefix("include ") {
            let path = path.trim();
            if path.is_empty() || Path::new(path).is_absolute() || path.contains("..") {
                bail!("{rel}: {{{{include {path}}}}} must name a file inside the repository");
            }
            let p = root.join(path);
            let t = std::fs::read_to_string(&p)
                .with_context(|| format!("{rel}: include {}", p.display()))?;
            out.push_str(t.trim_end());
        } else if let Some((_, v)) = vars.iter().find(|(k, _)| *k == directive) {
            out.push_str(v);
        } else {
            bail!("{rel}: unknown placeholder {{{{{directive}}}}}");
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The first paragraph of markdown text, on one line (the page's summary).
fn first_paragraph(text: &str) -> String {
    let para: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .collect();
    one_line(&para.join(" "))
}

fn frontmatter(title: &str, subcategory: Option<&str>, description: &str) -> String {
    let mut s = format!("---\npage_title: \"{title}\"\n");
    if let Some(sub) = subcategory {
        let _ = writeln!(s, "subcategory: \"{sub}\"");
    }
    s.push_str("description: |-\n");
    for line in description.trim().lines() {
        if line.is_empty() {
            s.push('\n');
        } else {
            let _ = writeln!(s, "  {line}");
        }
    }
    s.push_str("---\n\n");
    s
}

/// One nested section still to render: its anchor, its title path and
/// what it holds.
enum Pending<'a> {
    Block {
        anchor: String,
        path: String,
        block: &'a Block,
    },
    Object {
        anchor: String,
        path: String,
        attrs: Vec<(String, Type)>,
    },
}

/// The `## Schema` section with its nested sections, the way tfplugindocs
/// lays it out.
fn render_schema(block: &Block) -> String {
    let mut s = String::from(
        "<!-- schema generated by gen-docs (scripts/docs.sh); do not edit -->\n## Schema\n",
    );
    let mut queue: Vec<Pending<'_>> = Vec::new();
    render_groups(&mut s, block, "", "", &mut queue);
    let mut i = 0;
    while i < queue.len() {
        match &queue[i] {
            Pending::Block {
                anchor,
                path,
                block,
            } => {
                let _ = write!(
                    s,
                    "\n<a id=\"{anchor}\"></a>\n### Nested Schema for `{path}`\n"
                );
                let (block, anchor, path) = (*block, anchor.clone(), path.clone());
                if !block.description.trim().is_empty() {
                    let _ = write!(s, "\n{}\n", block.description.trim());
                }
                let mut more = Vec::new();
                render_groups(&mut s, block, &anchor, &path, &mut more);
                queue.extend(more);
            }
            Pending::Object {
                anchor,
                path,
                attrs,
            } => {
                let _ = write!(
                    s,
                    "\n<a id=\"{anchor}\"></a>\n### Nested Schema for `{path}`\n\nRead-Only:\n\n"
                );
                for (name, ty) in attrs {
                    let _ = writeln!(s, "- `{name}` ({})", type_name(ty));
                }
            }
        }
        i += 1;
    }
    s
}

/// The Required / Optional / Read-Only groups of a block: `### Title`
/// headings at the top level, `Title:` lines in nested sections.
fn render_groups<'a>(
    s: &mut String,
    block: &'a Block,
    anchor: &str,
    path: &str,
    queue: &mut Vec<Pending<'a>>,
) {
    let mut items = items(block);
    items.sort_by(|a, b| a.name().cmp(b.name()));
    for (group, title) in [
        (Group::Required, "Required"),
        (Group::Optional, "Optional"),
        (Group::ReadOnly, "Read-Only"),
    ] {
        let mine: Vec<&Item<'a>> = items.iter().filter(|i| i.group() == group).collect();
        if mine.is_empty() {
            continue;
        }
        if path.is_empty() {
            let _ = write!(s, "\n### {title}\n\n");
        } else {
            let _ = write!(s, "\n{title}:\n\n");
        }
        for item in mine {
            s.push_str(&item.line(anchor, path, queue));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Required,
    Optional,
    ReadOnly,
}

enum Item<'a> {
    Attr(&'a Attribute),
    Block(&'a NestedBlock),
}

fn items(block: &Block) -> Vec<Item<'_>> {
    block
        .attributes
        .iter()
        .map(Item::Attr)
        .chain(block.block_types.iter().map(Item::Block))
        .collect()
}

impl<'a> Item<'a> {
    fn name(&self) -> &str {
        match self {
            Item::Attr(a) => &a.name,
            Item::Block(b) => &b.type_name,
        }
    }

    fn group(&self) -> Group {
        match self {
            Item::Attr(a) if a.required => Group::Required,
            Item::Attr(a) if a.optional => Group::Optional,
            Item::Attr(_) => Group::ReadOnly,
            Item::Block(b) if b.min_items > 0 => Group::Required,
            Item::Block(_) => Group::Optional,
        }
    }

    /// The bullet for this item; queues its nested section if it has one.
    fn line(&self, anchor: &str, path: &str, queue: &mut Vec<Pending<'a>>) -> String {
        let child_anchor = |kind: &str, name: &str| {
            if anchor.is_empty() {
                format!("{kind}--{name}")
            } else {
                format!("{anchor}--{name}")
            }
        };
        let child_path = |name: &str| {
            if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            }
        };
        match self {
            Item::Attr(a) => {
                let mut tags = vec![type_name(&a.ty)];
                if a.sensitive {
                    tags.push("Sensitive".into());
                }
                if a.write_only {
                    tags.push("Write-only".into());
                }
                if a.deprecated {
                    tags.push("Deprecated".into());
                }
                let mut line = bullet(&a.name, &tags, &a.description);
                if let Type::Object(attrs) = &a.ty {
                    let anchor = child_anchor("nestedatt", &a.name);
                    let _ = write!(line, " (see [below for nested schema](#{anchor}))");
                    queue.push(Pending::Object {
                        anchor,
                        path: child_path(&a.name),
                        attrs: attrs.iter().map(|(k, t)| (k.clone(), t.clone())).collect(),
                    });
                }
                line.push('\n');
                line
            }
            Item::Block(b) => {
                let kind = match b.nesting {
                    NestingMode::Single | NestingMode::Group => "Block".to_string(),
                    NestingMode::List => "Block List".to_string(),
                    NestingMode::Set => "Block Set".to_string(),
                    NestingMode::Map => "Block Map".to_string(),
                };
                let mut tags = vec![kind];
                match b.nesting {
                    NestingMode::Single | NestingMode::Group => tags.push(
                        if b.min_items > 0 {
                            "Required"
                        } else {
                            "Optional"
                        }
                        .to_string(),
                    ),
                    _ => {
                        if b.min_items > 0 {
                            tags.push(format!("Min: {}", b.min_items));
                        }
                        if b.max_items > 0 {
                            tags.push(format!("Max: {}", b.max_items));
                        }
                    }
                }
                if b.block.deprecated {
                    tags.push("Deprecated".into());
                }
                let anchor = child_anchor("nestedblock", &b.type_name);
                let mut line = bullet(&b.type_name, &tags, &b.block.description);
                let _ = write!(line, " (see [below for nested schema](#{anchor}))");
                queue.push(Pending::Block {
                    anchor,
                    path: child_path(&b.type_name),
                    block: &b.block,
                });
                line.push('\n');
                line
            }
        }
    }
}

/// `- `name` (Tags) Description`, the description on one line.
fn bullet(name: &str, tags: &[String], description: &str) -> String {
    let d = one_line(description);
    if d.is_empty() {
        format!("- `{name}` ({})", tags.join(", "))
    } else {
        format!("- `{name}` ({}) {d}", tags.join(", "))
    }
}

/// A description on one bullet line.
fn one_line(d: &str) -> String {
    d.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A type the way the registry docs spell it.
fn type_name(t: &Type) -> String {
    match t {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object(_) => "Object".into(),
    }
}
