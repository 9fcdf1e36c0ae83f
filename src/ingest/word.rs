//! What the word-processor readers share: paragraph styles, list numbering, open paragraphs
//! and tables, and the paragraph → text rules.
//!
//! [`super::docx`] (Office Open XML), [`super::doc`] (Word 97–2003 binary) and
//! [`super::odt`] (OpenDocument) read different containers into the same model: a [`Para`]
//! with its style, outline level and list, styles by id ([`Styles`]) and list definitions
//! ([`Numbering`]). [`finish_paragraph`], [`deliver`] and [`Builder`] then write the text the
//! same way for all three, so a document gives the same text, headings and list numbers
//! whichever of the formats it was saved in.

use std::collections::HashMap;
use std::ops::Range;

/// A paragraph style: what headings and lists need of it.
#[derive(Debug, Default, Clone)]
pub(super) struct Style {
    pub(super) name: String,
    pub(super) based_on: Option<String>,
    pub(super) outline: Option<u8>,
    pub(super) num: Option<(String, u8)>,
}

/// Paragraph styles by id.
#[derive(Debug, Default)]
pub(super) struct Styles {
    pub(super) by_id: HashMap<String, Style>,
}

impl Styles {
    /// The heading level (1–9) of a style, following `basedOn` links.
    pub(super) fn heading_level(&self, id: &str) -> Option<u8> {
        let mut id = id.to_string();
        for _ in 0..16 {
            let Some(style) = self.by_id.get(&id) else {
                // No styles.xml (or an unknown id): go by the id itself.
                return heading_from_name(&id);
            };
            if let Some(level) = heading_from_name(&style.name) {
                return Some(level);
            }
            if let Some(o) = style.outline {
                return (o < 9).then_some(o + 1);
            }
            id = style.based_on.clone()?;
        }
        None
    }

    /// The list (numId, level) a style carries, following `basedOn` links.
    pub(super) fn numbering(&self, id: &str) -> Option<(String, u8)> {
        let mut id = id.to_string();
        for _ in 0..16 {
            let style = self.by_id.get(&id)?;
            if let Some(n) = &style.num {
                return Some(n.clone());
            }
            id = style.based_on.clone()?;
        }
        None
    }
}

/// "heading 3" / "Heading3" → 3, "Title" → 1.
fn heading_from_name(name: &str) -> Option<u8> {
    let lower = name.to_ascii_lowercase().replace(' ', "");
    if lower == "title" {
        return Some(1);
    }
    let n: u8 = lower.strip_prefix("heading")?.parse().ok()?;
    (1..=9).contains(&n).then_some(n)
}

/// One level of a list definition.
#[derive(Debug, Clone, Default)]
pub(super) struct Level {
    pub(super) start: u32,
    pub(super) format: String,
    pub(super) text: String,
    pub(super) legal: bool,
}

/// List definitions and the running counters of each list.
#[derive(Debug, Default)]
pub(super) struct Numbering {
    /// abstractNumId → levels 0..9.
    pub(super) abstracts: HashMap<String, Vec<Level>>,
    /// numId → (abstractNumId, start overrides by level).
    pub(super) nums: HashMap<String, (String, HashMap<u8, u32>)>,
    /// Counters by abstractNumId (lists sharing a definition continue each other, as in Word
    /// when no restart is asked for).
    pub(super) counters: HashMap<String, [u32; 9]>,
    /// Which levels of each counter have been used since they were last reset.
    pub(super) used: HashMap<String, [bool; 9]>,
    /// The list instances (numIds) used so far: the first use of one with start overrides
    /// restarts the overridden levels there.
    pub(super) seen: std::collections::HashSet<String>,
}

impl Numbering {
    /// The label of the next item at `ilvl` of list `num_id` ("4.2", "(a)"), advancing the
    /// counters. `None` for bullets, unknown lists and numId 0 ("no numbering").
    pub(super) fn next_label(&mut self, num_id: &str, ilvl: u8) -> Option<String> {
        let (abs_id, overrides) = self.nums.get(num_id)?.clone();
        let levels = self.abstracts.get(&abs_id)?.clone();
        let lvl = usize::from(ilvl.min(8));
        let level = levels.get(lvl)?;
        let start = |i: usize| {
            overrides
                .get(&(i as u8))
                .copied()
                .or_else(|| levels.get(i).map(|l| l.start))
                .unwrap_or(1)
        };
        let counters = self.counters.entry(abs_id.clone()).or_insert([0; 9]);
        let used = self.used.entry(abs_id).or_insert([false; 9]);
        if self.seen.insert(num_id.to_string()) {
            // A list instance that overrides a level's start restarts it when first used
            // (Word's "restart at 99" on a list that continues another's definition).
            for &o in overrides.keys() {
                if let Some(u) = used.get_mut(usize::from(o)) {
                    *u = false;
                }
            }
        }
        counters[lvl] = if used[lvl] {
            counters[lvl].saturating_add(1)
        } else {
            start(lvl)
        };
        used[lvl] = true;
        for deeper in used.iter_mut().skip(lvl + 1) {
            *deeper = false;
        }
        // Levels above that were never used count from their start.
        for upper in 0..lvl {
            if !used[upper] {
                counters[upper] = start(upper);
                used[upper] = true;
            }
        }
        if level.format == "bullet" || level.format == "none" {
            return None;
        }
        let mut label = String::new();
        let mut chars = level.text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '%'
                && let Some(d) = chars.peek().and_then(|d| d.to_digit(10))
            {
                chars.next();
                let i = (d as usize).saturating_sub(1).min(8);
                let fmt = if level.legal {
                    "decimal"
                } else {
                    levels.get(i).map_or("decimal", |l| l.format.as_str())
                };
                label.push_str(&format_number(counters[i], fmt));
            } else {
                label.push(c);
            }
        }
        let label = label.trim().to_string();
        (!label.is_empty()).then_some(label)
    }
}

/// A counter in a list number format.
pub(super) fn format_number(n: u32, format: &str) -> String {
    match format {
        "lowerLetter" => letters(n).to_lowercase(),
        "upperLetter" => letters(n),
        "lowerRoman" => roman(n).to_lowercase(),
        "upperRoman" => roman(n),
        "decimalZero" => format!("{n:02}"),
        "ordinal" => ordinal(n),
        _ => n.to_string(),
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, `11th`, `22nd` ...
pub(super) fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// 1 → A, 26 → Z, 27 → AA (Word repeats the letter).
pub(super) fn letters(n: u32) -> String {
    if n == 0 {
        return String::new();
    }
    let letter = char::from(b'A' + ((n - 1) % 26) as u8);
    std::iter::repeat_n(letter, ((n - 1) / 26 + 1).min(10) as usize).collect()
}

pub(super) fn roman(mut n: u32) -> String {
    if n == 0 || n >= 4000 {
        return n.to_string();
    }
    let table = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, digits) in table {
        while n >= value {
            out.push_str(digits);
            n -= value;
        }
    }
    out
}

/// One block of output: a paragraph, or a table row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Block {
    /// The line(s) of text, heading marks and list labels included.
    pub(super) text: String,
    /// For table rows, which table (rows of one table are joined by single line breaks).
    pub(super) table: Option<usize>,
    /// In a notes part, the display number of the note (notes are put in that order).
    pub(super) note: usize,
}

/// A paragraph being read.
#[derive(Debug, Default)]
pub(super) struct Para {
    pub(super) text: String,
    pub(super) style: Option<String>,
    pub(super) outline: Option<u8>,
    pub(super) num_id: Option<String>,
    pub(super) ilvl: Option<u8>,
}

/// The output line of a finished paragraph: heading marks or list label and indentation,
/// then the text with its whitespace tidied. `None` for a paragraph without text.
pub(super) fn finish_paragraph(
    p: Para,
    styles: &Styles,
    numbering: &mut Numbering,
) -> Option<String> {
    // Line breaks inside a paragraph stay, but never as blank lines (those separate blocks).
    let lines: Vec<String> = p
        .text
        .split('\n')
        .map(|l| {
            l.split([' ', '\t', '\u{a0}'])
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let level = match p.outline {
        Some(o) if o < 9 => Some(o + 1),
        Some(_) => None,
        None => p.style.as_deref().and_then(|s| styles.heading_level(s)),
    };
    let num = match (&p.num_id, p.ilvl) {
        (Some(id), ilvl) => Some((id.clone(), ilvl.unwrap_or(0))),
        (None, Some(ilvl)) => p
            .style
            .as_deref()
            .and_then(|s| styles.numbering(s))
            .map(|(id, _)| (id, ilvl)),
        (None, None) => p.style.as_deref().and_then(|s| styles.numbering(s)),
    }
    .filter(|(id, _)| id != "0");
    if lines.is_empty() {
        // An empty numbered paragraph still takes its number, as in Word.
        if let Some((id, ilvl)) = num {
            numbering.next_label(&id, ilvl);
        }
        return None;
    }
    let label = num
        .as_ref()
        .and_then(|(id, ilvl)| numbering.next_label(id, *ilvl));
    let mut body = lines.join("\n");
    if let Some(label) = label {
        body = format!("{label} {body}");
    }
    Some(match level {
        Some(level) => format!(
            "{} {}",
            "#".repeat(usize::from(level.min(6))),
            body.replace('\n', " ")
        ),
        None => {
            let indent = num.map_or(0, |(_, ilvl)| usize::from(ilvl.min(8)));
            format!("{}{body}", "  ".repeat(indent))
        }
    })
}

/// Joins blocks into the text and records each block's byte range.
#[derive(Debug, Default)]
pub(super) struct Builder {
    pub(super) text: String,
    pub(super) paragraphs: Vec<Range<usize>>,
    pub(super) last_table: Option<usize>,
}

impl Builder {
    fn separate(&mut self, table: Option<usize>) {
        if self.text.is_empty() {
            return;
        }
        let same_table = table.is_some() && table == self.last_table;
        self.text.push_str(if same_table { "\n" } else { "\n\n" });
    }

    pub(super) fn block(&mut self, b: &Block) {
        self.separate(b.table);
        let start = self.text.len();
        self.text.push_str(&b.text);
        self.paragraphs.push(start..self.text.len());
        self.last_table = b.table;
    }

    /// A synthetic section heading (not a numbered paragraph).
    pub(super) fn section(&mut self, title: &str) {
        self.separate(None);
        self.text.push_str("# ");
        self.text.push_str(title);
        self.last_table = None;
    }
}

/// A table being read: its id, the cells of the current row, the text of the current cell.
#[derive(Debug, Default)]
pub(super) struct Table {
    pub(super) id: usize,
    pub(super) cells: Vec<String>,
    pub(super) cell: Option<String>,
}

/// What is open while reading: paragraphs and tables nest (a table in a cell, a paragraph in
/// a text box inside a paragraph).
#[derive(Debug)]
pub(super) enum Open {
    Para(Para),
    Table(Table),
}

/// The innermost open paragraph, if it is innermost of all.
pub(super) fn top_para(open: &mut [Open]) -> Option<&mut Para> {
    match open.last_mut() {
        Some(Open::Para(p)) => Some(p),
        _ => None,
    }
}

/// Where finished text goes: the enclosing paragraph (text boxes), the open cell of the
/// enclosing table, or a new block. Text joining a paragraph or cell loses its heading marks.
pub(super) fn deliver(
    open: &mut [Open],
    out: &mut Vec<Block>,
    text: String,
    table: Option<usize>,
    sep: &str,
) {
    let target = match open.last_mut() {
        Some(Open::Para(p)) => Some(&mut p.text),
        Some(Open::Table(t)) => t.cell.as_mut(),
        None => None,
    };
    match target {
        Some(t) => {
            if !t.is_empty() {
                t.push_str(sep);
            }
            t.push_str(text.trim_start_matches('#').trim_start());
        }
        None => out.push(Block {
            text,
            table,
            note: 0,
        }),
    }
}

/// Whitespace runs as single spaces (a table cell's text, a title).
pub(super) fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A table row as one line: its cells joined by ` | `, trailing empty cells (layout, not
/// content) left out; `None` for a row without text.
pub(super) fn row_text(cells: &[String]) -> Option<String> {
    let last = cells.iter().rposition(|c| !c.is_empty())?;
    Some(cells[..=last].join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_instance_with_a_start_override_restarts_that_level_where_first_used() {
        let level = |text: &str| Level {
            start: 1,
            format: "decimal".into(),
            text: text.into(),
            legal: false,
        };
        let mut n = Numbering::default();
        n.abstracts
            .insert("L".into(), vec![level("%1."), level("%1.%2")]);
        n.nums.insert("1".into(), ("L".into(), HashMap::new()));
        n.nums
            .insert("2".into(), ("L".into(), HashMap::from([(1u8, 99u32)])));
        let labels: Vec<String> = [
            ("1", 0),
            ("1", 1),
            ("1", 1),
            ("2", 1),
            ("2", 1),
            ("1", 1),
            ("1", 0),
        ]
        .into_iter()
        .map(|(id, l)| n.next_label(id, l).unwrap())
        .collect();
        // The second instance shares the definition: it continues it after its restart.
        assert_eq!(labels, ["1.", "1.1", "1.2", "1.99", "1.100", "1.101", "2."]);
    }

    #[test]
    fn list_number_formats() {
        assert_eq!(roman(1994), "MCMXCIV");
        assert_eq!(letters(1), "A");
        assert_eq!(letters(28), "BB");
        assert_eq!(format_number(3, "lowerRoman"), "iii");
        assert_eq!(format_number(7, "decimalZero"), "07");
        assert_eq!(format_number(1, "ordinal"), "1st");
        assert_eq!(format_number(12, "ordinal"), "12th");
        assert_eq!(format_number(23, "ordinal"), "23rd");
        assert_eq!(heading_from_name("heading 3"), Some(3));
        assert_eq!(heading_from_name("Heading10"), None);
        assert_eq!(heading_from_name("Title"), Some(1));
    }
}
