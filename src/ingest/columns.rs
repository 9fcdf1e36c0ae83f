//! Reading order of PDF pages set in columns.
//!
//! pdf-extract writes a page's characters in the order of its content stream. Most producers
//! draw a column at a time, which reads right; some draw each line across the page, left
//! column then right, so the two columns came out interleaved line by line ("the tenant
//! shall pay | the landlord shall" on one line). [`PageRecorder`] records the characters of
//! a page with their places, finds a gutter that runs down many lines (a gap no character
//! crosses, with prose on both sides), and when the stream crosses it back and forth, replays
//! the characters to pdf-extract's own text output column by column: each band of lines
//! between lines that cross the gutter (a title over both columns) left column first, then
//! right, and a column split again where it has a gutter of its own (three columns). Pages
//! whose stream already reads column by column, and pages without columns, are written
//! exactly as before (the recorded calls replayed in their order).

use pdf_extract::{MediaBox, OutputDev, OutputError, PlainTextOutput, Transform};

/// A gap at least this many font sizes wide between two characters of a line may be a
/// gutter (word spaces, even in justified text, are under one).
const GUTTER_EMS: f64 = 1.2;
/// Lines of a page (or column) with text on both sides of a gutter needed to look for
/// columns there.
const MIN_SPLIT_LINES: usize = 4;
/// How full a column's lines are, as the median share of the column's width they cover: prose
/// fills its lines; the cells of a table seldom do, and a table keeps its rows.
const MIN_FILL: f64 = 0.75;
/// Words in a column's median line: prose has several, a table's cells few.
const MIN_WORDS: usize = 3;
/// Columns within columns, at most.
const MAX_DEPTH: usize = 3;
/// Pages with more characters than this (a dense table, several times a page of prose) are
/// written in stream order, unexamined: finding a gutter costs time in proportion to the
/// characters times the candidate gaps.
const MAX_GLYPHS: usize = 20_000;

/// One character as pdf-extract gave it.
#[derive(Debug, Clone)]
struct Glyph {
    trm: Transform,
    width: f64,
    spacing: f64,
    font_size: f64,
    /// Its text, in [`PageRecorder::chars`].
    text: std::ops::Range<usize>,
    /// Whether a show-text operation begins with it (pdf-extract's `begin_word`).
    starts_run: bool,
}

/// Where a character is on the page, top down.
#[derive(Debug, Clone, Copy)]
struct Place {
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
    blank: bool,
}

/// A page's number, media box and art box, as `begin_page` gives them.
type PageStart = (u32, MediaBox, Option<(f64, f64, f64, f64)>);

/// An [`OutputDev`] that records one page, then gives its text in reading order
/// ([`text`](Self::text)).
#[derive(Debug, Default)]
pub struct PageRecorder {
    page: Option<PageStart>,
    glyphs: Vec<Glyph>,
    chars: String,
    run_open: bool,
}

impl OutputDev for PageRecorder {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.page = Some((page_num, *media_box, art_box));
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        let start = self.chars.len();
        self.chars.push_str(char);
        self.glyphs.push(Glyph {
            trm: *trm,
            width,
            spacing,
            font_size,
            text: start..self.chars.len(),
            starts_run: std::mem::take(&mut self.run_open),
        });
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.run_open = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

impl PageRecorder {
    /// The page's text as pdf-extract's plain-text output writes it, in reading order.
    pub fn text(&self) -> Result<String, OutputError> {
        let Some((number, media_box, art_box)) = self.page else {
            return Ok(String::new());
        };
        let places = self.places(&media_box);
        let order = reading_order(&places);
        let mut text = String::new();
        let mut out = PlainTextOutput::new(&mut text);
        out.begin_page(number, &media_box, art_box)?;
        let mut previous = None;
        for i in order.unwrap_or_else(|| (0..self.glyphs.len()).collect()) {
            let g = &self.glyphs[i];
            // A character that no longer follows its neighbour in the stream starts a run,
            // so the output measures the jump (a new line, a space) as it does between runs.
            if g.starts_run || previous.is_none_or(|p| p + 1 != i) {
                out.begin_word()?;
            }
            out.output_character(
                &g.trm,
                g.width,
                g.spacing,
                g.font_size,
                &self.chars[g.text.clone()],
            )?;
            previous = Some(i);
        }
        out.end_page()?;
        Ok(text)
    }

    /// Each character's place, top down, measured as pdf-extract's text output measures it
    /// (its position through the page's flip, its size the side of the square of the font
    /// size's transformed vector).
    fn places(&self, media_box: &MediaBox) -> Vec<Place> {
        let height = media_box.ury - media_box.lly;
        self.glyphs
            .iter()
            .map(|g| {
                let t = &g.trm;
                let (vx, vy) = (g.font_size * (t.m11 + t.m21), g.font_size * (t.m12 + t.m22));
                let size = (vx * vy).abs().sqrt();
                Place {
                    x0: t.m31,
                    x1: t.m31 + g.width * size,
                    y: height - t.m32,
                    size,
                    blank: self.chars[g.text.clone()].trim().is_empty(),
                }
            })
            .collect()
    }
}

/// The order to write the characters in, or `None` when the stream's own order reads right
/// (no columns, or columns drawn one after the other).
fn reading_order(places: &[Place]) -> Option<Vec<usize>> {
    if places.len() > MAX_GLYPHS {
        return None;
    }
    let mut interleaved = false;
    let order = arrange(places, (0..places.len()).collect(), 0, &mut interleaved);
    interleaved.then_some(order)
}

/// The characters `ids` (in stream order) in reading order: bands of columns split at a
/// gutter, column by column, the rest in stream order. A band ends at a line across the
/// gutter (a title over both columns) and at a gap as tall as a blank line across the whole
/// width (below a running header, between paragraphs that end level in both columns). Sets
/// `interleaved` when a band's stream crosses its gutter about once a line or more, as a
/// page drawn line by line does (not when a header's page number or an index's two halves
/// cross it once or twice).
fn arrange(places: &[Place], ids: Vec<usize>, depth: usize, interleaved: &mut bool) -> Vec<usize> {
    if depth == MAX_DEPTH || ids.len() < 2 {
        return ids;
    }
    let lines = lines(places, &ids);
    let Some(gutter) = gutter(places, &lines) else {
        return ids;
    };
    let mut out = Vec::with_capacity(ids.len());
    let mut band: Vec<&Vec<usize>> = Vec::new();
    let flush = |band: &mut Vec<&Vec<usize>>, out: &mut Vec<usize>, interleaved: &mut bool| {
        let mut all: Vec<usize> = band.iter().flat_map(|l| l.iter().copied()).collect();
        all.sort_unstable();
        match split_band(places, band, gutter) {
            Some((left, right, split_lines)) => {
                let sides: Vec<bool> = all
                    .iter()
                    .filter(|&&i| !places[i].blank)
                    .map(|&i| places[i].x0 < gutter)
                    .collect();
                let crossings = sides.windows(2).filter(|w| w[0] != w[1]).count();
                if crossings > 1 && crossings >= split_lines {
                    *interleaved = true;
                }
                out.extend(arrange(places, left, depth + 1, interleaved));
                out.extend(arrange(places, right, depth + 1, interleaved));
            }
            None => out.extend(all),
        }
        band.clear();
    };
    let mut above: Option<Place> = None;
    for line in &lines {
        let first = places[line[0]];
        let blank_line_above = above.is_some_and(|a| first.y - a.y > 1.8 * first.size.max(a.size));
        above = Some(first);
        if crosses(places, line, gutter) {
            flush(&mut band, &mut out, interleaved);
            out.extend(line.iter().copied());
        } else {
            if blank_line_above {
                flush(&mut band, &mut out, interleaved);
            }
            band.push(line);
        }
    }
    flush(&mut band, &mut out, interleaved);
    out
}

/// The characters `ids` grouped into lines, top down; each line's characters in stream order.
fn lines(places: &[Place], ids: &[usize]) -> Vec<Vec<usize>> {
    let mut by_y: Vec<usize> = ids.to_vec();
    by_y.sort_by(|&a, &b| places[a].y.total_cmp(&places[b].y));
    let mut lines: Vec<Vec<usize>> = Vec::new();
    let mut top = f64::NEG_INFINITY;
    for i in by_y {
        let p = places[i];
        match lines.last_mut() {
            Some(line) if p.y - top <= 0.5 * p.size.max(1.0) => line.push(i),
            _ => {
                top = p.y;
                lines.push(vec![i]);
            }
        }
    }
    for line in &mut lines {
        line.sort_unstable();
    }
    lines
}

/// The horizontal extents of a line's printed characters, left to right.
fn extents(places: &[Place], line: &[usize]) -> Vec<(f64, f64, f64)> {
    let mut spans: Vec<(f64, f64, f64)> = line
        .iter()
        .map(|&i| places[i])
        .filter(|p| !p.blank)
        .map(|p| (p.x0, p.x1.max(p.x0), p.size))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    spans
}

/// Whether `line` runs across `x`: text on both sides without a gutter-wide gap at `x`
/// between them (a printed character over `x`, or only a word space).
fn crosses(places: &[Place], line: &[usize], x: f64) -> bool {
    across(&extents(places, line), x)
}

/// [`crosses`] on a line's extents.
fn across(spans: &[(f64, f64, f64)], x: f64) -> bool {
    let before = spans.iter().filter(|s| s.0 < x).map(|s| (s.1, s.2));
    let after = spans.iter().filter(|s| s.0 >= x).map(|s| (s.0, s.2));
    let (Some((end, a)), Some((start, b))) = (
        before.max_by(|p, q| p.0.total_cmp(&q.0)),
        after.min_by(|p, q| p.0.total_cmp(&q.0)),
    ) else {
        return false;
    };
    end > x || start - end < GUTTER_EMS * a.max(b)
}

/// The x of the gap that splits the most lines in two (text on both sides, a gutter-wide gap
/// between them), if one splits at least [`MIN_SPLIT_LINES`].
fn gutter(places: &[Place], lines: &[Vec<usize>]) -> Option<f64> {
    let extents: Vec<Vec<(f64, f64, f64)>> = lines.iter().map(|l| extents(places, l)).collect();
    let mut candidates: Vec<f64> = Vec::new();
    for spans in &extents {
        for w in spans.windows(2) {
            let (end, start) = (w[0].1, w[1].0);
            if start - end >= GUTTER_EMS * w[0].2.max(w[1].2) {
                candidates.push(((end + start) / 2.0).round());
            }
        }
    }
    candidates.sort_by(f64::total_cmp);
    candidates.dedup();
    let splits = |x: f64| {
        extents
            .iter()
            .filter(|spans| {
                spans.iter().any(|s| s.0 < x) && spans.iter().any(|s| s.0 >= x) && !across(spans, x)
            })
            .count()
    };
    candidates
        .into_iter()
        .map(|x| (splits(x), x))
        .filter(|&(n, _)| n >= MIN_SPLIT_LINES)
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, x)| x)
}

/// A band of lines (none crossing `gutter`) as two columns of prose: the characters left
/// and right of it, each in stream order, and how many lines have text on both sides;
/// `None` when fewer than two do, or a side's lines do not read as prose (they fill their
/// column and hold several words: a table's cells seldom do both).
fn split_band(
    places: &[Place],
    band: &[&Vec<usize>],
    gutter: f64,
) -> Option<(Vec<usize>, Vec<usize>, usize)> {
    let (mut left, mut right) = (Vec::new(), Vec::new());
    // Each side's lines, of the lines with text on both sides: (start, end, words).
    let (mut lefts, mut rights) = (Vec::new(), Vec::new());
    for line in band {
        let spans = extents(places, line);
        let (l, r): (Vec<_>, Vec<_>) = spans.iter().partition(|s| s.0 < gutter);
        if let (Some(l), Some(r)) = (words(&l), words(&r)) {
            lefts.push(l);
            rights.push(r);
        }
        for &i in line.iter() {
            if places[i].x0 < gutter {
                left.push(i);
            } else {
                right.push(i);
            }
        }
    }
    if lefts.len() < 2 || !prose(&lefts) || !prose(&rights) {
        return None;
    }
    left.sort_unstable();
    right.sort_unstable();
    Some((left, right, lefts.len()))
}

/// Where a line's part begins and ends and how many words it has (runs of characters
/// apart by more than a fifth of their size); `None` for no characters.
fn words(spans: &[&(f64, f64, f64)]) -> Option<(f64, f64, usize)> {
    let first = spans.first()?;
    let end = spans.iter().map(|s| s.1).fold(first.1, f64::max);
    let words = 1 + spans
        .windows(2)
        .filter(|w| w[1].0 - w[0].1 > 0.2 * w[0].2.max(w[1].2))
        .count();
    Some((first.0, end, words))
}

/// Whether a column's lines read as prose: the median line fills [`MIN_FILL`] of the
/// column's width and has [`MIN_WORDS`] words.
fn prose(lines: &[(f64, f64, usize)]) -> bool {
    let start = lines.iter().map(|l| l.0).fold(f64::MAX, f64::min);
    let end = lines.iter().map(|l| l.1).fold(f64::MIN, f64::max);
    let width = end - start;
    width > 0.0
        && median(lines.iter().map(|l| l.1 - l.0).collect()) >= MIN_FILL * width
        && median(lines.iter().map(|l| l.2 as f64).collect()) >= MIN_WORDS as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Characters of `words` laid out as lines: (x where the line starts, line number, text);
    /// 10 pt type, 5 pt a character, 12 pt between lines; listed in the order given.
    fn page(lines: &[(f64, usize, &str)]) -> (Vec<Place>, String) {
        let mut places = Vec::new();
        let mut text = String::new();
        for &(x, line, words) in lines {
            for (k, c) in words.chars().enumerate() {
                let x0 = x + 5.0 * k as f64;
                places.push(Place {
                    x0,
                    x1: x0 + 5.0,
                    y: 100.0 + 12.0 * line as f64,
                    size: 10.0,
                    blank: c == ' ',
                });
                text.push(c);
            }
        }
        (places, text)
    }

    fn read(lines: &[(f64, usize, &str)]) -> Option<String> {
        let (places, text) = page(lines);
        let chars: Vec<char> = text.chars().collect();
        reading_order(&places).map(|o| o.into_iter().map(|i| chars[i]).collect())
    }

    const LEFT: [&str; 5] = [
        "the tenant shall pay rent",
        "on the first day of every",
        "month without any demand",
        "or deduction whatsoever to",
        "the landlord at its office",
    ];
    const RIGHT: [&str; 5] = [
        "the landlord shall repair",
        "the roof and the outside",
        "walls within thirty days",
        "after the tenant gives it",
        "written notice of defects",
    ];

    #[test]
    fn columns_drawn_line_by_line_are_read_column_by_column() {
        let mut rows = vec![(72.0, 0, "LEASE OF THE PREMISES AT NINE ELM STREET, SUITE 4")];
        for (k, (l, r)) in LEFT.iter().zip(RIGHT).enumerate() {
            rows.push((72.0, k + 1, *l));
            rows.push((220.0, k + 1, r));
        }
        let read = read(&rows).expect("interleaved columns are reordered");
        let expected = format!(
            "LEASE OF THE PREMISES AT NINE ELM STREET, SUITE 4{}{}",
            LEFT.concat(),
            RIGHT.concat()
        );
        assert_eq!(read, expected);
    }

    #[test]
    fn columns_drawn_one_after_the_other_and_single_columns_keep_the_stream_order() {
        let mut rows = Vec::new();
        for (k, l) in LEFT.iter().enumerate() {
            rows.push((72.0, k, *l));
        }
        for (k, r) in RIGHT.iter().enumerate() {
            rows.push((220.0, k, r));
        }
        assert_eq!(read(&rows), None);
        let single: Vec<_> = LEFT
            .iter()
            .enumerate()
            .map(|(k, l)| (72.0, k, *l))
            .collect();
        assert_eq!(read(&single), None);
    }

    #[test]
    fn a_table_keeps_its_rows() {
        // Short labels and amounts: the columns' lines do not fill them as prose does.
        let rows: Vec<(f64, usize, &str)> = [
            ("Base rent", "$4,800.00 per month"),
            ("Security deposit", "$9,600.00"),
            ("Late charge", "5% of the amount"),
            ("Term", "five years"),
            ("Renewal option", "one term of five years"),
            ("Use", "retail bakery"),
        ]
        .iter()
        .enumerate()
        .flat_map(|(k, (a, b))| [(72.0, k, *a), (220.0, k, *b)])
        .collect();
        assert_eq!(read(&rows), None);
    }

    #[test]
    fn three_columns_drawn_line_by_line_are_read_column_by_column() {
        let third = [
            "either party may end this",
            "lease on ninety days notice",
            "given in writing to the other",
            "party at the address above",
            "by registered or certified",
        ];
        let mut rows = Vec::new();
        for k in 0..5 {
            rows.push((40.0, k, LEFT[k]));
            rows.push((190.0, k, RIGHT[k]));
            rows.push((340.0, k, third[k]));
        }
        let read = read(&rows).expect("interleaved columns are reordered");
        assert_eq!(
            read,
            format!("{}{}{}", LEFT.concat(), RIGHT.concat(), third.concat())
        );
    }

    #[test]
    fn a_running_header_over_columns_drawn_line_by_line_stays_on_top() {
        // "LEASE AGREEMENT ... Page 3": two parts with a gutter-wide gap, a blank line below.
        let mut rows = vec![(72.0, 0, "LEASE AGREEMENT"), (300.0, 0, "Page 3")];
        for (k, (l, r)) in LEFT.iter().zip(RIGHT).enumerate() {
            rows.push((72.0, k + 2, *l));
            rows.push((220.0, k + 2, r));
        }
        let text = read(&rows).expect("interleaved columns are reordered");
        assert_eq!(
            text,
            format!("LEASE AGREEMENTPage 3{}{}", LEFT.concat(), RIGHT.concat())
        );
        // Drawn a column at a time, the header's one crossing does not reorder the page.
        let mut rows = vec![(72.0, 0, "LEASE AGREEMENT"), (300.0, 0, "Page 3")];
        rows.extend(LEFT.iter().enumerate().map(|(k, l)| (72.0, k + 2, *l)));
        rows.extend(RIGHT.iter().enumerate().map(|(k, r)| (220.0, k + 2, *r)));
        assert_eq!(read(&rows), None);
    }

    #[test]
    fn paragraphs_that_end_level_in_both_columns_are_read_a_pair_at_a_time() {
        let mut rows = Vec::new();
        for k in 0..5 {
            // A blank line after the third line, in both columns.
            let line = if k < 3 { k } else { k + 1 };
            rows.push((72.0, line, LEFT[k]));
            rows.push((220.0, line, RIGHT[k]));
        }
        let read = read(&rows).expect("interleaved columns are reordered");
        assert_eq!(
            read,
            format!(
                "{}{}{}{}",
                LEFT[..3].concat(),
                RIGHT[..3].concat(),
                LEFT[3..].concat(),
                RIGHT[3..].concat()
            )
        );
    }

    #[test]
    fn a_title_over_both_columns_separates_two_bands() {
        let mut rows = Vec::new();
        for k in 0..4 {
            rows.push((72.0, k, LEFT[k]));
            rows.push((220.0, k, RIGHT[k]));
        }
        rows.push((
            72.0,
            4,
            "ARTICLE 2 ASSIGNMENT AND SUBLETTING OF THE PREMISES",
        ));
        for k in 0..4 {
            rows.push((72.0, 5 + k, RIGHT[k]));
            rows.push((220.0, 5 + k, LEFT[k]));
        }
        let read = read(&rows).expect("interleaved columns are reordered");
        assert_eq!(
            read,
            format!(
                "{}{}ARTICLE 2 ASSIGNMENT AND SUBLETTING OF THE PREMISES{}{}",
                LEFT[..4].concat(),
                RIGHT[..4].concat(),
                RIGHT[..4].concat(),
                LEFT[..4].concat()
            )
        );
    }
}
