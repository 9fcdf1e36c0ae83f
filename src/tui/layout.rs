//! Where each part of the screen goes: `areas` splits the terminal into the query line, the
//! results list, the preview, the message line and the status bar.
//!
//! Pure geometry on a `Rect`, with no state: [`super::app`] pages and scrolls by it, and
//! [`super::ui`] draws into it, so both agree on how many hits a page holds.

use ratatui::layout::{Constraint, Layout, Margin, Rect};

/// Below this width or height the compact screen is drawn.
const MIN_WIDTH: u16 = 40;
/// See [`MIN_WIDTH`].
const MIN_HEIGHT: u16 = 10;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Areas {
    pub(super) query: Rect,
    pub(super) list_block: Rect,
    pub(super) list: Rect,
    pub(super) preview_block: Rect,
    pub(super) preview: Rect,
    pub(super) message: Rect,
    pub(super) status: Rect,
    /// Rows per hit in the list.
    pub(super) item_height: u16,
}

impl Areas {
    /// How many hits fit in the list.
    pub(super) fn items_per_page(&self) -> usize {
        usize::from(self.list.height / self.item_height.max(1))
    }

    /// Whether the screen is too small for boxes: the compact layout (query, hits, status).
    pub(super) fn compact(&self) -> bool {
        self.list_block.is_empty()
    }
}

/// Splits the screen. Pure, so that the app can page and scroll by the geometry it is drawn in.
pub(super) fn areas(area: Rect) -> Areas {
    let empty = Rect::new(area.x, area.y, 0, 0);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let row = |y: u16| Rect::new(area.x, y, area.width, 1);
        return Areas {
            query: if area.height >= 1 { row(area.y) } else { empty },
            list_block: empty,
            list: if area.height >= 3 {
                Rect::new(area.x, area.y + 1, area.width, area.height - 2)
            } else {
                empty
            },
            preview_block: empty,
            preview: empty,
            message: empty,
            status: if area.height >= 2 {
                row(area.bottom() - 1)
            } else {
                empty
            },
            item_height: 1,
        };
    }
    let [query, body, message, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let [list_block, preview_block] = if area.width >= 120 {
        Layout::horizontal([Constraint::Percentage(45), Constraint::Fill(1)]).areas(body)
    } else {
        Layout::vertical([Constraint::Percentage(50), Constraint::Fill(1)]).areas(body)
    };
    let inner = |r: Rect| r.inner(Margin::new(1, 1));
    Areas {
        query,
        list_block,
        list: inner(list_block),
        preview_block,
        preview: inner(preview_block),
        message,
        status,
        item_height: 2,
    }
}
