//! The vector graph as a flat, memory-mapped file for searching (`graph.flat`).
//!
//! hnsw_rs reloads a dumped graph point by point as heap objects, one reference-counted
//! allocation per neighbour link: about 8 s and 2.4 GB per million points before the first
//! search. Searching needs none of that. After hnsw_rs has built (or extended) a graph and
//! dumped it, [`write()`] copies the same graph into one file of plain arrays: the vectors,
//! their chunk ids and each point's neighbour list per layer, with 32-bit point numbers.
//! [`FlatGraph::open`] maps that file and checks its header, so opening costs the same at
//! any size, and the operating system pages in only what searches touch.
//!
//! hnsw_rs stays the builder and the source of truth (indexing reloads its own dump to
//! insert); this file is derived from it at every dump and searched with the same
//! algorithm (greedy descent through the upper layers, then a beam of width `ef` on the
//! bottom layer) and the same distance function.
//!
//! Layout, little-endian, every section aligned to 64 bytes:
//!
//! | section | type | length |
//! |---|---|---|
//! | header | 17 × u64 | (the magic, then the header fields) |
//! | ids | u64 | points (chunk ids, ascending) |
//! | vectors | f32 | points × dim |
//! | bottom | u32 | points × (1 + bottom width): count, then neighbours |
//! | upper points | u32 | points on layer 1 or above, ascending |
//! | upper start | u32 | for each of those, its first row in `upper rows` |
//! | upper rows | u32 | one row of (1 + upper width) per point and layer 1..=its level |

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use hnsw_rs::prelude::{DistDot, Distance, Hnsw, PointId};
use memmap2::Mmap;

use crate::{Error, Result};

/// The file's name in the vector index folder.
pub const FILE_NAME: &str = "graph.flat";
const MAGIC: &[u8; 8] = b"LXSFLAT\0";
const VERSION: u64 = 1;
/// Header words after the magic.
const HEADER_WORDS: usize = 16;
const ALIGN: u64 = 64;

/// The header's fields, in file order after the magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    version: u64,
    dim: u64,
    points: u64,
    max_level: u64,
    entry: u64,
    bottom_width: u64,
    upper_width: u64,
    upper_points: u64,
    upper_rows: u64,
    off_ids: u64,
    off_vectors: u64,
    off_bottom: u64,
    off_upper_points: u64,
    off_upper_start: u64,
    off_upper_rows: u64,
    len: u64,
}

impl Header {
    fn words(&self) -> [u64; HEADER_WORDS] {
        [
            self.version,
            self.dim,
            self.points,
            self.max_level,
            self.entry,
            self.bottom_width,
            self.upper_width,
            self.upper_points,
            self.upper_rows,
            self.off_ids,
            self.off_vectors,
            self.off_bottom,
            self.off_upper_points,
            self.off_upper_start,
            self.off_upper_rows,
            self.len,
        ]
    }

    /// Lays the sections out for a graph of these sizes.
    #[allow(clippy::too_many_arguments)]
    fn layout(
        dim: u64,
        points: u64,
        max_level: u64,
        entry: u64,
        bottom_width: u64,
        upper_width: u64,
        upper_points: u64,
        upper_rows: u64,
    ) -> Self {
        let mut at = align(8 + 8 * HEADER_WORDS as u64);
        let mut section = |bytes: u64| {
            let start = at;
            at = align(at + bytes);
            start
        };
        let off_ids = section(8 * points);
        let off_vectors = section(4 * points * dim);
        let off_bottom = section(4 * points * (1 + bottom_width));
        let off_upper_points = section(4 * upper_points);
        let off_upper_start = section(4 * upper_points);
        let off_upper_rows = section(4 * upper_rows * (1 + upper_width));
        Header {
            version: VERSION,
            dim,
            points,
            max_level,
            entry,
            bottom_width,
            upper_width,
            upper_points,
            upper_rows,
            off_ids,
            off_vectors,
            off_bottom,
            off_upper_points,
            off_upper_start,
            off_upper_rows,
            len: at,
        }
    }
}

fn align(at: u64) -> u64 {
    at.div_ceil(ALIGN) * ALIGN
}

fn corrupt(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Vector {
        path: path.to_path_buf(),
        message: format!(
            "the search graph is damaged ({what}); run `lexsearch verify --repair` to write it again"
        ),
    }
}

/// Writes `graph` (vectors of length `dim`) as a flat file at `path`, through a temporary
/// file renamed into place, so a reader never sees half a file and a mapping of the old
/// file stays valid.
pub fn write(graph: &Hnsw<'_, f32, DistDot>, dim: usize, path: &Path) -> Result<()> {
    let indexation = graph.get_point_indexation();
    // hnsw_rs's point iterator cannot walk an empty graph.
    let mut points: Vec<_> = if graph.get_nb_point() == 0 {
        Vec::new()
    } else {
        indexation.into_iter().collect()
    };
    points.sort_by_key(|p| p.get_origin_id());
    let number: HashMap<PointId, u32> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (p.get_point_id(), i as u32))
        .collect();
    let neighbourhoods: Vec<Vec<Vec<u32>>> = points
        .iter()
        .map(|p| {
            let level = p.get_point_id().0 as usize;
            let mut layers = p.get_neighborhood_id();
            layers.truncate(level + 1);
            layers
                .iter()
                .map(|layer| {
                    layer
                        .iter()
                        .filter_map(|n| number.get(&n.p_id).copied())
                        .collect()
                })
                .collect()
        })
        .collect();
    drop(number);
    let mut neighbourhoods = neighbourhoods;
    // The entry point: the first point on the highest layer.
    let (entry, max_level) = points
        .iter()
        .enumerate()
        .map(|(i, p)| (i, p.get_point_id().0))
        .fold(
            (0, 0),
            |best, (i, level)| if level > best.1 { (i, level) } else { best },
        );
    let mut bottom: Vec<Vec<u32>> = neighbourhoods
        .iter_mut()
        .map(|layers| {
            if layers.is_empty() {
                Vec::new()
            } else {
                std::mem::take(&mut layers[0])
            }
        })
        .collect();
    connect_unreachable(&mut bottom, entry, |p| points[p as usize].get_v());
    for (layers, row) in neighbourhoods.iter_mut().zip(bottom) {
        match layers.first_mut() {
            Some(first) => *first = row,
            None => layers.push(row),
        }
    }
    let bottom_width = neighbourhoods
        .iter()
        .map(|l| l.first().map_or(0, Vec::len))
        .max()
        .unwrap_or(0);
    let upper_width = neighbourhoods
        .iter()
        .flat_map(|l| l.iter().skip(1).map(Vec::len))
        .max()
        .unwrap_or(0);
    let upper: Vec<u32> = (0..points.len() as u32)
        .filter(|&i| neighbourhoods[i as usize].len() > 1)
        .collect();
    let upper_rows: usize = upper
        .iter()
        .map(|&i| neighbourhoods[i as usize].len() - 1)
        .sum();
    let header = Header::layout(
        dim as u64,
        points.len() as u64,
        u64::from(max_level),
        entry as u64,
        bottom_width as u64,
        upper_width as u64,
        upper.len() as u64,
        upper_rows as u64,
    );

    let tmp = path.with_extension("flat.tmp");
    let io = |e| Error::io("write", &tmp, e);
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let mut out = Writer {
        inner: BufWriter::with_capacity(1 << 20, file),
        at: 0,
    };
    out.bytes(MAGIC).map_err(io)?;
    for w in header.words() {
        out.u64(w).map_err(io)?;
    }
    out.pad_to(header.off_ids).map_err(io)?;
    for p in &points {
        out.u64(p.get_origin_id() as u64).map_err(io)?;
    }
    out.pad_to(header.off_vectors).map_err(io)?;
    for p in &points {
        let v = p.get_v();
        if v.len() != dim {
            return Err(Error::Vector {
                path: path.to_path_buf(),
                message: format!("a vector of length {} in a graph of {dim}", v.len()),
            });
        }
        out.bytes(bytemuck::cast_slice(v)).map_err(io)?;
    }
    out.pad_to(header.off_bottom).map_err(io)?;
    for layers in &neighbourhoods {
        let empty = Vec::new();
        out.row(layers.first().unwrap_or(&empty), bottom_width)
            .map_err(io)?;
    }
    out.pad_to(header.off_upper_points).map_err(io)?;
    for &i in &upper {
        out.u32(i).map_err(io)?;
    }
    out.pad_to(header.off_upper_start).map_err(io)?;
    let mut row = 0u32;
    for &i in &upper {
        out.u32(row).map_err(io)?;
        row += neighbourhoods[i as usize].len() as u32 - 1;
    }
    out.pad_to(header.off_upper_rows).map_err(io)?;
    for &i in &upper {
        for layer in &neighbourhoods[i as usize][1..] {
            out.row(layer, upper_width).map_err(io)?;
        }
    }
    out.pad_to(header.len).map_err(io)?;
    let file = out.inner.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| Error::io("rename", path, e))
}

/// Links every point that a search on the bottom layer cannot reach from `entry` to one it
/// can, and returns how many points it linked (each also makes reachable what it reaches).
///
/// hnsw_rs sometimes leaves a point that no other point links to (its backlinks pruned, or
/// its neighbours connected at the same time on another thread: hnswlib-rs issues #32 and
/// #37): no search finds it, not even one for its own vector, so its chunk would never be a
/// semantic hit. Measured: 4 of 300 parallel builds of 320 random vectors had one. Each such
/// point is added to the bottom-layer lists of its own neighbours that are reachable (the
/// points nearest to it, where a search for anything near it goes), or, when none is, of
/// the nearest reachable point; then what it reaches becomes reachable too.
///
/// Copies of a text share one vector, and hnsw_rs keeps one link among identical points (its
/// neighbour heuristic prunes the rest), so most copies are unreachable and all of them share
/// the same neighbours: linked from those, a few lists would take a link per copy (thousands
/// at a million chunks) and every list of the file is as wide as the widest. A copy is
/// linked from the copy of its vector linked before it instead, a chain in which no list
/// takes more than one link; and no list takes more than [`MAX_EXTRA_LINKS`] beyond the
/// widest list hnsw_rs wrote while another reachable neighbour has room.
fn connect_unreachable<'v>(
    bottom: &mut [Vec<u32>],
    entry: usize,
    vector: impl Fn(u32) -> &'v [f32],
) -> usize {
    let n = bottom.len();
    if n == 0 {
        return 0;
    }
    let mut reached = vec![false; n];
    let spread = |from: usize, bottom: &[Vec<u32>], reached: &mut [bool]| {
        let mut stack = vec![from];
        reached[from] = true;
        while let Some(p) = stack.pop() {
            for &q in &bottom[p] {
                if !std::mem::replace(&mut reached[q as usize], true) {
                    stack.push(q as usize);
                }
            }
        }
    };
    spread(entry.min(n - 1), bottom, &mut reached);
    if reached.iter().all(|&r| r) {
        return 0;
    }
    let room = bottom.iter().map(Vec::len).max().unwrap_or(0) + MAX_EXTRA_LINKS;
    // The points of each vector, by a hash of its bits; and the copy linked last.
    let key = |p: u32| {
        vector(p).iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, x| {
            (h.rotate_left(5) ^ u64::from(x.to_bits())).wrapping_mul(0x5851_f42d_4c95_7f2d)
        })
    };
    let mut points_of: HashMap<u64, Vec<u32>> = HashMap::new();
    for p in 0..n as u32 {
        points_of.entry(key(p)).or_default().push(p);
    }
    let mut linked_last: HashMap<u64, u32> = HashMap::new();
    let mut connected = 0;
    for p in 0..n {
        if reached[p] {
            continue;
        }
        connected += 1;
        let point = p as u32;
        let k = key(point);
        let copy = |q: u32| q != point && reached[q as usize] && vector(q) == vector(point);
        let from_copy = linked_last
            .get(&k)
            .copied()
            .filter(|&q| copy(q))
            .or_else(|| points_of[&k].iter().copied().find(|&q| copy(q)));
        let via: Vec<u32> = match from_copy {
            Some(q) => vec![q],
            None => {
                let mut own: Vec<u32> = bottom[p]
                    .iter()
                    .copied()
                    .filter(|&q| reached[q as usize])
                    .collect();
                own.sort_by_key(|&q| bottom[q as usize].len());
                match own.iter().position(|&q| bottom[q as usize].len() >= room) {
                    Some(0) => own.truncate(1),
                    Some(full) => own.truncate(full),
                    None => {}
                }
                if own.is_empty() {
                    let v = vector(point);
                    (0..n as u32)
                        .filter(|&q| reached[q as usize])
                        .min_by(|&a, &b| {
                            Dist(DistDot.eval(v, vector(a))).cmp(&Dist(DistDot.eval(v, vector(b))))
                        })
                        .into_iter()
                        .collect()
                } else {
                    own
                }
            }
        };
        for q in via {
            bottom[q as usize].push(point);
        }
        linked_last.insert(k, point);
        spread(p, bottom, &mut reached);
    }
    connected
}

/// Links [`connect_unreachable`] may add to a list beyond the widest one hnsw_rs wrote, while
/// another reachable neighbour has room.
const MAX_EXTRA_LINKS: usize = 4;

/// A byte writer that knows its position, for aligned sections.
struct Writer<W: Write> {
    inner: W,
    at: u64,
}

impl<W: Write> Writer<W> {
    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.at += b.len() as u64;
        self.inner.write_all(b)
    }

    fn u64(&mut self, v: u64) -> std::io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    fn u32(&mut self, v: u32) -> std::io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    /// A neighbour row: the count, the neighbours, zeros up to `width`.
    fn row(&mut self, neighbours: &[u32], width: usize) -> std::io::Result<()> {
        self.u32(neighbours.len() as u32)?;
        for &n in neighbours {
            self.u32(n)?;
        }
        for _ in neighbours.len()..width {
            self.u32(0)?;
        }
        Ok(())
    }

    fn pad_to(&mut self, at: u64) -> std::io::Result<()> {
        while self.at < at {
            self.bytes(&[0])?;
        }
        Ok(())
    }
}

/// A graph written by [`write()`], mapped into memory for searching. Read-only.
pub struct FlatGraph {
    map: Mmap,
    header: Header,
}

/// A distance with a total order, for the search heaps.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Dist(f32);

impl Eq for Dist {}

impl PartialOrd for Dist {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Dist {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl FlatGraph {
    /// Maps the file at `path`; `None` when there is none (an index written before this
    /// file existed). Refuses a file that is damaged or holds vectors of another length.
    pub fn open(path: &Path, dim: usize) -> Result<Option<Self>> {
        if cfg!(target_endian = "big") {
            return Ok(None); // the file is little-endian; hnsw_rs's own dump still works
        }
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("open", path, e)),
        };
        // SAFETY: the file is never changed in place: writers build a new one and rename it
        // over this one, which leaves this mapping on the old file intact.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io("map", path, e))?;
        // Searches jump from vector to vector: reading ahead around each one would only fill
        // memory with vectors no search asked for. (A hint: ignored where unsupported.)
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Random);
        let head = map
            .get(..8 + 8 * HEADER_WORDS)
            .ok_or_else(|| corrupt(path, "shorter than its header"))?;
        if &head[..8] != MAGIC {
            return Err(corrupt(path, "not a lexsearch graph file"));
        }
        let words: Vec<u64> = head[8..]
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
            .collect();
        // The file's sizes give the layout; every other word must agree with it.
        let [
            version,
            dim_in_file,
            points,
            max_level,
            entry,
            bottom,
            upper,
            up_points,
            up_rows,
        ] = std::array::from_fn(|i| words[i]);
        if version != VERSION {
            return Err(corrupt(path, format!("format version {version}")));
        }
        if dim_in_file != dim as u64 {
            return Err(corrupt(
                path,
                format!("vectors of length {dim_in_file}, not {dim}"),
            ));
        }
        let header = Header::layout(
            dim_in_file,
            points,
            max_level,
            entry,
            bottom,
            upper,
            up_points,
            up_rows,
        );
        if header.words()[..] != words[..] || (map.len() as u64) < header.len {
            return Err(corrupt(path, "its sections do not match its header"));
        }
        if header.points > u64::from(u32::MAX)
            || (header.points > 0 && header.entry >= header.points)
        {
            return Err(corrupt(path, "an entry point outside the graph"));
        }
        let graph = FlatGraph { map, header };
        graph.check_links(path)?;
        Ok(Some(graph))
    }

    /// Every neighbour number and upper-layer row must lie inside the graph, so that a
    /// search never indexes out of bounds, whatever the file holds. Reads the link tables
    /// once (about 140 MB per million points, sequentially).
    fn check_links(&self, path: &Path) -> Result<()> {
        let n = self.header.points as u32;
        let rows_ok = |table: &[u32], width: usize| {
            table.chunks_exact(width + 1).all(|row| {
                row[0] as usize <= width && row[1..=row[0] as usize].iter().all(|&x| x < n)
            })
        };
        if !rows_ok(self.bottom(), self.header.bottom_width as usize)
            || !rows_ok(self.upper_rows(), self.header.upper_width as usize)
        {
            return Err(corrupt(path, "a neighbour outside the graph"));
        }
        let upper = self.upper_points();
        let starts = self.upper_start();
        let rows = self.header.upper_rows as u32;
        let sorted = upper.windows(2).all(|w| w[0] < w[1]);
        let in_range = upper.iter().all(|&p| p < n)
            && starts.windows(2).all(|w| w[0] < w[1])
            && starts.last().is_none_or(|&s| s < rows);
        if !sorted || !in_range {
            return Err(corrupt(path, "an upper layer out of order"));
        }
        Ok(())
    }

    fn section<T: bytemuck::Pod>(&self, offset: u64, len: u64) -> &[T] {
        let start = offset as usize;
        let bytes = &self.map[start..start + len as usize * std::mem::size_of::<T>()];
        // Offsets are multiples of 64 in a page-aligned mapping, so the cast cannot fail.
        bytemuck::try_cast_slice(bytes).unwrap_or(&[])
    }

    fn ids(&self) -> &[u64] {
        self.section(self.header.off_ids, self.header.points)
    }

    fn vectors(&self) -> &[f32] {
        self.section(
            self.header.off_vectors,
            self.header.points * self.header.dim,
        )
    }

    fn bottom(&self) -> &[u32] {
        self.section(
            self.header.off_bottom,
            self.header.points * (1 + self.header.bottom_width),
        )
    }

    fn upper_points(&self) -> &[u32] {
        self.section(self.header.off_upper_points, self.header.upper_points)
    }

    fn upper_start(&self) -> &[u32] {
        self.section(self.header.off_upper_start, self.header.upper_points)
    }

    fn upper_rows(&self) -> &[u32] {
        self.section(
            self.header.off_upper_rows,
            self.header.upper_rows * (1 + self.header.upper_width),
        )
    }

    /// Number of points (tombstones included: the file holds the whole graph).
    pub fn len(&self) -> usize {
        self.header.points as usize
    }

    /// Whether the graph has no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stored vector of chunk `id`, if the graph has it.
    pub fn vector_of(&self, id: u64) -> Option<&[f32]> {
        let point = self.ids().binary_search(&id).ok()?;
        Some(self.vector(u32::try_from(point).ok()?))
    }

    fn vector(&self, point: u32) -> &[f32] {
        let dim = self.header.dim as usize;
        let at = point as usize * dim;
        &self.vectors()[at..at + dim]
    }

    fn neighbours(&self, point: u32, layer: u64) -> &[u32] {
        let (table, width, row) = if layer == 0 {
            (
                self.bottom(),
                self.header.bottom_width as usize,
                point as usize,
            )
        } else {
            let Ok(slot) = self.upper_points().binary_search(&point) else {
                return &[];
            };
            let row = self.upper_start()[slot] as usize + layer as usize - 1;
            let next = self
                .upper_start()
                .get(slot + 1)
                .map_or(self.header.upper_rows as usize, |&s| s as usize);
            if row >= next {
                return &[];
            }
            (self.upper_rows(), self.header.upper_width as usize, row)
        };
        let row = &table[row * (width + 1)..(row + 1) * (width + 1)];
        &row[1..=row[0] as usize]
    }

    /// How many points a search on the bottom layer cannot reach from the entry point: no
    /// search finds them (0 for a file written by this version, which links them).
    pub fn unreached(&self) -> usize {
        let n = self.len();
        if n == 0 {
            return 0;
        }
        let mut reached = vec![false; n];
        let entry = (self.header.entry as usize).min(n - 1);
        reached[entry] = true;
        let mut stack = vec![entry as u32];
        while let Some(p) = stack.pop() {
            for &q in self.neighbours(p, 0) {
                if let Some(r) = reached.get_mut(q as usize)
                    && !std::mem::replace(r, true)
                {
                    stack.push(q);
                }
            }
        }
        reached.iter().filter(|r| !**r).count()
    }

    /// The `limit` points nearest to `query` (dot-product distance, `1 - cosine`) among
    /// those whose chunk id passes `live`, nearest first, as (chunk id, distance). `ef` is
    /// the width of the search on the bottom layer (at least `limit`).
    pub fn search(
        &self,
        query: &[f32],
        limit: usize,
        ef: usize,
        live: impl Fn(u64) -> bool,
    ) -> Vec<(u64, f32)> {
        if self.is_empty() || query.len() != self.header.dim as usize || limit == 0 {
            return Vec::new();
        }
        let dist = |p: u32| DistDot.eval(query, self.vector(p));
        let ids = self.ids();
        // Greedy descent: on each upper layer, move to the nearest neighbour until none is
        // nearer.
        let mut pivot = self.header.entry as u32;
        let mut pivot_dist = dist(pivot);
        for layer in (1..=self.header.max_level).rev() {
            loop {
                let mut moved = false;
                for &n in self.neighbours(pivot, layer) {
                    let d = dist(n);
                    if d < pivot_dist {
                        (pivot, pivot_dist, moved) = (n, d, true);
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        // Beam search on the bottom layer. Removed points are walked through but never
        // returned.
        let ef = ef.max(limit);
        let mut visited = vec![0u64; self.len().div_ceil(64)];
        let mut seen = |p: u32| {
            let (word, bit) = (p as usize / 64, 1u64 << (p % 64));
            let was = visited[word] & bit != 0;
            visited[word] |= bit;
            was
        };
        seen(pivot);
        let mut candidates = BinaryHeap::from([Reverse((Dist(pivot_dist), pivot))]);
        let mut found: BinaryHeap<(Dist, u32)> = BinaryHeap::with_capacity(ef + 1);
        if live(ids[pivot as usize]) {
            found.push((Dist(pivot_dist), pivot));
        }
        while let Some(Reverse((Dist(d), c))) = candidates.pop() {
            if found.len() >= ef && found.peek().is_some_and(|w| d > w.0.0) {
                break;
            }
            for &n in self.neighbours(c, 0) {
                if seen(n) {
                    continue;
                }
                let dn = dist(n);
                if found.len() < ef || found.peek().is_some_and(|w| dn < w.0.0) {
                    candidates.push(Reverse((Dist(dn), n)));
                    if live(ids[n as usize]) {
                        found.push((Dist(dn), n));
                        if found.len() > ef {
                            found.pop();
                        }
                    }
                }
            }
        }
        let mut nearest: Vec<(u64, f32)> = found
            .into_sorted_vec()
            .into_iter()
            .map(|(Dist(d), p)| (ids[p as usize], d))
            .collect();
        nearest.truncate(limit);
        nearest
    }
}

impl FlatGraph {
    /// The `limit` points among the chunk ids `among` (ascending) nearest to `query`, by
    /// comparing the query with each of them (exact, no graph walk), keeping those that pass
    /// `live`; nearest first, ties by chunk id, as (chunk id, distance). Ids not in the graph
    /// are skipped.
    pub fn nearest_among(
        &self,
        query: &[f32],
        limit: usize,
        among: &[u64],
        live: impl Fn(u64) -> bool,
    ) -> Vec<(u64, f32)> {
        if self.is_empty() || query.len() != self.header.dim as usize || limit == 0 {
            return Vec::new();
        }
        let ids = self.ids();
        let mut found: BinaryHeap<(Dist, u64)> = BinaryHeap::with_capacity(limit + 1);
        // Both lists ascend: each lookup starts where the last one ended.
        let mut from = 0;
        for &id in among {
            let Ok(at) = ids[from..].binary_search(&id).map(|i| from + i) else {
                continue;
            };
            from = at + 1;
            if !live(id) {
                continue;
            }
            let d = Dist(DistDot.eval(query, self.vector(at as u32)));
            if found.len() < limit || found.peek().is_some_and(|w| (d, id) < *w) {
                found.push((d, id));
                if found.len() > limit {
                    found.pop();
                }
            }
        }
        found
            .into_sorted_vec()
            .into_iter()
            .map(|(Dist(d), id)| (id, d))
            .collect()
    }
}

/// Where the flat file of the vector index in `dir` lives.
pub fn path_in(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` pseudo-random unit vectors in `dim` dimensions under ids `first..first + n`.
    fn vectors(first: usize, n: usize, dim: usize) -> Vec<(usize, Vec<f32>)> {
        crate::index::test_vectors::unit_vectors(7 + first as u64, n, dim)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (first + i, v))
            .collect()
    }

    fn hnsw(data: &[(usize, Vec<f32>)]) -> Hnsw<'static, f32, DistDot> {
        let graph = Hnsw::new(16, data.len(), 16, 200, DistDot);
        let slices: Vec<(&[f32], usize)> = data.iter().map(|(i, v)| (v.as_slice(), *i)).collect();
        graph.parallel_insert_slice(&slices);
        graph
    }

    fn exact(data: &[(usize, Vec<f32>)], q: &[f32], k: usize) -> Vec<u64> {
        let mut all: Vec<(f32, u64)> = data
            .iter()
            .map(|(i, v)| (DistDot.eval(q, v), *i as u64))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        all.into_iter().take(k).map(|(_, i)| i).collect()
    }

    #[test]
    fn a_written_graph_maps_back_with_every_point_and_vector() {
        let dir = tempfile::tempdir().unwrap();
        let data = vectors(1000, 300, 12);
        let path = path_in(dir.path());
        write(&hnsw(&data), 12, &path).unwrap();
        let flat = FlatGraph::open(&path, 12).unwrap().unwrap();
        assert_eq!(flat.len(), 300);
        assert_eq!(flat.ids(), (1000..1300).collect::<Vec<u64>>());
        for (i, (_, v)) in data.iter().enumerate() {
            assert_eq!(flat.vector(i as u32), v.as_slice());
        }
        // Each point's nearest neighbour is itself, at distance 0.
        for (id, v) in data.iter().step_by(13) {
            let hits = flat.search(v, 1, 64, |_| true);
            assert_eq!(hits[0].0, *id as u64);
            assert!(hits[0].1.abs() < 1e-5);
        }
    }

    #[test]
    fn points_no_search_reaches_are_linked_from_points_it_reaches() {
        // 0 → 1 → 2 ⇄ 0; 3 links to 1 but nothing links to 3; 4 and 5 only link to each
        // other.
        let mut bottom = vec![vec![1], vec![2], vec![0], vec![1, 4], vec![5], vec![4]];
        let v: Vec<Vec<f32>> = [
            [1.0, 0.0],
            [0.8, 0.6],
            [0.6, 0.8],
            [0.9, 0.44],
            [0.0, 1.0],
            [-0.6, 0.8],
        ]
        .iter()
        .map(|p| p.to_vec())
        .collect();
        // 3 is linked from its reachable neighbour 1; then 4 and 5 are reached through it.
        assert_eq!(connect_unreachable(&mut bottom, 0, |p| &v[p as usize]), 1);
        assert_eq!(bottom[1], [2, 3]);
        assert_eq!(bottom[3], [1, 4]);
        // A graph every point of which is reached is left alone.
        let before = bottom.clone();
        assert_eq!(connect_unreachable(&mut bottom, 0, |p| &v[p as usize]), 0);
        assert_eq!(bottom, before);
        // A cluster that links nowhere reachable hangs from the reachable point nearest to it.
        let mut bottom = vec![vec![1], vec![0], vec![3], vec![2]];
        let v: Vec<Vec<f32>> = [[1.0, 0.0], [0.0, 1.0], [0.1, 0.99], [0.2, 0.98]]
            .iter()
            .map(|p| p.to_vec())
            .collect();
        assert_eq!(connect_unreachable(&mut bottom, 0, |p| &v[p as usize]), 1);
        assert_eq!(bottom[1], [0, 2]);
    }

    #[test]
    fn many_copies_of_a_vector_are_all_reached_without_widening_every_list() {
        // Copies of a text share one vector: 40 vectors with 60 copies each, among 1,000
        // others, as a folder of matters that each hold the same forms.
        let mut data = vectors(0, 1000, 16);
        let shared = vectors(5000, 40, 16);
        for copy in 0..60 {
            for (i, (_, v)) in shared.iter().enumerate() {
                data.push((10_000 + copy * 100 + i, v.clone()));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        write(&hnsw(&data), 16, &path).unwrap();
        let flat = FlatGraph::open(&path, 16).unwrap().unwrap();
        assert_eq!(flat.len(), 3400);
        assert_eq!(flat.unreached(), 0);
        // hnsw_rs's own lists are at most 32 wide on the bottom layer.
        assert!(
            flat.header.bottom_width <= 32 + MAX_EXTRA_LINKS as u64,
            "bottom lists {} wide",
            flat.header.bottom_width
        );
        // Every copy is found by its vector.
        for (i, (_, v)) in shared.iter().enumerate().step_by(7) {
            let hits = flat.search(v, 60, 200, |_| true);
            let copies = hits.iter().filter(|(_, d)| d.abs() < 1e-5).count();
            assert_eq!(copies, 60, "vector {i}");
        }
    }

    #[test]
    fn a_written_file_counts_no_point_a_search_cannot_reach() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        write(&hnsw(&vectors(0, 500, 8)), 8, &path).unwrap();
        let flat = FlatGraph::open(&path, 8).unwrap().unwrap();
        assert_eq!(flat.unreached(), 0);
    }

    #[test]
    fn the_flat_search_finds_what_exact_search_finds() {
        let dir = tempfile::tempdir().unwrap();
        let data = vectors(0, 2000, 16);
        let graph = hnsw(&data);
        let path = path_in(dir.path());
        write(&graph, 16, &path).unwrap();
        let flat = FlatGraph::open(&path, 16).unwrap().unwrap();
        let queries = vectors(50_000, 100, 16);
        let (mut agree, mut hnsw_agree) = (0, 0);
        for (_, q) in &queries {
            let truth = exact(&data, q, 10);
            let got = flat.search(q, 10, 64, |_| true);
            assert_eq!(got.len(), 10);
            assert!(got.windows(2).all(|w| w[0].1 <= w[1].1));
            agree += got.iter().filter(|(id, _)| truth.contains(id)).count();
            hnsw_agree += graph
                .search(q, 10, 64)
                .iter()
                .filter(|n| truth.contains(&(n.d_id as u64)))
                .count();
        }
        let recall = agree as f64 / 1000.0;
        let hnsw_recall = hnsw_agree as f64 / 1000.0;
        // A generous floor, and no worse than hnsw_rs's own search of the same graph.
        assert!(recall >= 0.95, "recall@10 {recall}");
        assert!(
            recall + 0.01 >= hnsw_recall,
            "{recall} against hnsw_rs {hnsw_recall}"
        );
    }

    #[test]
    fn removed_points_are_walked_through_but_never_returned() {
        let dir = tempfile::tempdir().unwrap();
        let data = vectors(0, 500, 8);
        let path = path_in(dir.path());
        write(&hnsw(&data), 8, &path).unwrap();
        let flat = FlatGraph::open(&path, 8).unwrap().unwrap();
        // Every even id is removed.
        let live = |id: u64| id % 2 == 1;
        for (id, q) in data.iter().step_by(10) {
            let hits = flat.search(q, 10, 64, live);
            assert_eq!(hits.len(), 10);
            assert!(hits.iter().all(|(h, _)| live(*h)));
            assert!(hits.iter().all(|(h, _)| *h != *id as u64));
            let truth: Vec<(usize, Vec<f32>)> = data
                .iter()
                .filter(|(i, _)| live(*i as u64))
                .cloned()
                .collect();
            assert_eq!(hits[0].0, exact(&truth, q, 1)[0]);
        }
    }

    #[test]
    fn a_damaged_or_foreign_file_is_refused_with_the_repair_command() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        assert!(
            FlatGraph::open(&path, 8).unwrap().is_none(),
            "no file: none"
        );
        write(&hnsw(&vectors(0, 100, 8)), 8, &path).unwrap();
        let wrong_dim = FlatGraph::open(&path, 16).err().unwrap().to_string();
        assert!(wrong_dim.contains("length 8, not 16"), "{wrong_dim}");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&path, &bytes).unwrap();
        let short = FlatGraph::open(&path, 8).err().unwrap().to_string();
        assert!(short.contains("lexsearch verify --repair"), "{short}");
        std::fs::write(&path, b"not a graph at all, just some text").unwrap();
        assert!(FlatGraph::open(&path, 8).is_err());
    }

    #[test]
    fn a_neighbour_outside_the_graph_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        write(&hnsw(&vectors(0, 100, 8)), 8, &path).unwrap();
        let off_bottom = FlatGraph::open(&path, 8)
            .unwrap()
            .unwrap()
            .header
            .off_bottom;
        let mut bytes = std::fs::read(&path).unwrap();
        // The first neighbour of point 0 on the bottom layer becomes point 1,000,000.
        let at = off_bottom as usize + 4;
        bytes[at..at + 4].copy_from_slice(&1_000_000u32.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let err = FlatGraph::open(&path, 8).err().unwrap().to_string();
        assert!(err.contains("neighbour outside"), "{err}");
    }

    #[test]
    fn an_empty_graph_searches_to_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        let graph: Hnsw<'static, f32, DistDot> = Hnsw::new(16, 10, 16, 200, DistDot);
        write(&graph, 4, &path).unwrap();
        let flat = FlatGraph::open(&path, 4).unwrap().unwrap();
        assert!(flat.is_empty());
        assert!(
            flat.search(&[1.0, 0.0, 0.0, 0.0], 3, 64, |_| true)
                .is_empty()
        );
    }
}
