//! Transaction steps that several store operations share: selecting (and
//! locking) an object by stream id, committing a pending object, writing a
//! segment row, and deleting streams with their segments and parts while
//! collecting the pieces nobody references any more. Each runs inside the
//! caller's transaction; the caller commits or rolls back.

use sqlx::{Any, Executor, Row, Transaction};

use super::pieces::{PieceRef, encode_pieces, piece_refs};
use super::rows::{
    OBJECT_COLUMNS, ObjectRecord, SegmentRecord, encode_redundancy, object_from_row,
};
use super::types::{ObjectStatus, SegmentPosition};
use super::{Engine, StoreError};

/// Values fixed when an object is committed.
#[derive(Clone, Debug, Default)]
pub struct CommitValues {
    /// Number of segments.
    pub segment_count: i64,
    /// Sum of plain sizes.
    pub plain_size: i64,
    /// Sum of encrypted sizes.
    pub encrypted_size: i64,
    /// Encrypted user metadata.
    pub encrypted_metadata: Vec<u8>,
    /// Nonce of the metadata.
    pub encrypted_metadata_nonce: Vec<u8>,
    /// Wrapped metadata key.
    pub encrypted_metadata_key: Vec<u8>,
    /// Plain offset of each segment.
    pub plain_offsets: Vec<(SegmentPosition, i64)>,
}

/// What a successful commit produced.
#[derive(Clone, Debug)]
pub struct Committed {
    /// The object as now visible.
    pub object: ObjectRecord,
    /// Pieces of replaced older versions, for best-effort deletion.
    pub replaced_pieces: Vec<PieceRef>,
}

/// Row lock of a selected row inside a write transaction: `FOR UPDATE` on
/// PostgreSQL (SQLite's `BEGIN IMMEDIATE` already serializes writers).
pub(crate) fn lock_clause(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "",
        Engine::Postgres => " FOR UPDATE",
    }
}

/// The object (pending or committed) of this stream, read through `exec`
/// (the pool or a transaction); `lock` is appended to the query (see
/// [`lock_clause`]).
pub(crate) async fn select_object<'e, E>(
    exec: E,
    stream_id: &[u8; 16],
    lock: &str,
) -> Result<Option<ObjectRecord>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {OBJECT_COLUMNS} FROM objects WHERE stream_id = $1{lock}"
    ));
    let row = sqlx::query(sql)
        .bind(stream_id.to_vec())
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(object_from_row).transpose()
}

/// Selects the object of this stream and locks its row until `tx` ends, so
/// that no segment lands in it and no commit changes it meanwhile.
pub(crate) async fn lock_object(
    tx: &mut Transaction<'static, Any>,
    engine: Engine,
    stream_id: &[u8; 16],
) -> Result<Option<ObjectRecord>, StoreError> {
    select_object(&mut **tx, stream_id, lock_clause(engine)).await
}

/// Deletes the segments and object rows of these streams inside `tx`,
/// returning the remote pieces they referenced.
pub(crate) async fn delete_streams(
    tx: &mut Transaction<'static, Any>,
    streams: &[Vec<u8>],
) -> Result<Vec<PieceRef>, StoreError> {
    let mut pieces = Vec::new();
    for stream in streams {
        pieces.extend(delete_stream_segments(tx, stream).await?);
        sqlx::query("DELETE FROM objects WHERE stream_id = $1")
            .bind(stream.clone())
            .execute(&mut **tx)
            .await?;
    }
    Ok(pieces)
}

/// Deletes the segments (and multipart part records) of one stream inside
/// `tx`, returning the remote pieces they referenced.
pub(crate) async fn delete_stream_segments(
    tx: &mut Transaction<'static, Any>,
    stream: &[u8],
) -> Result<Vec<PieceRef>, StoreError> {
    let mut pieces = Vec::new();
    let rows = sqlx::query("SELECT root_piece_id, pieces FROM segments WHERE stream_id = $1")
        .bind(stream.to_vec())
        .fetch_all(&mut **tx)
        .await?;
    for row in &rows {
        pieces.extend(piece_refs(row)?);
    }
    sqlx::query("DELETE FROM segments WHERE stream_id = $1")
        .bind(stream.to_vec())
        .execute(&mut **tx)
        .await?;
    delete_parts(tx, stream).await?;
    Ok(pieces)
}

/// Deletes the multipart part records of one stream inside `tx`.
pub(crate) async fn delete_parts(
    tx: &mut Transaction<'static, Any>,
    stream: &[u8],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM parts WHERE stream_id = $1")
        .bind(stream.to_vec())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts segment `s`, or replaces the stored segment at its position,
/// inside `tx`.
pub(crate) async fn upsert_segment(
    tx: &mut Transaction<'static, Any>,
    s: &SegmentRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO segments (stream_id, position, created_at, expires_at, root_piece_id, \
         encrypted_key, encrypted_key_nonce, encrypted_size, plain_offset, plain_size, \
         redundancy, inline_data, pieces) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (stream_id, position) DO UPDATE SET created_at = excluded.created_at, \
         expires_at = excluded.expires_at, root_piece_id = excluded.root_piece_id, \
         encrypted_key = excluded.encrypted_key, \
         encrypted_key_nonce = excluded.encrypted_key_nonce, \
         encrypted_size = excluded.encrypted_size, plain_offset = excluded.plain_offset, \
         plain_size = excluded.plain_size, redundancy = excluded.redundancy, \
         inline_data = excluded.inline_data, pieces = excluded.pieces",
    )
    .bind(s.stream_id.to_vec())
    .bind(s.position.encode())
    .bind(s.created_at)
    .bind(s.expires_at)
    .bind(s.root_piece_id.as_bytes().to_vec())
    .bind(s.encrypted_key.clone())
    .bind(s.encrypted_key_nonce.clone())
    .bind(s.encrypted_size)
    .bind(s.plain_offset)
    .bind(s.plain_size)
    .bind(encode_redundancy(&s.redundancy))
    .bind(s.inline_data.clone())
    .bind(encode_pieces(&s.pieces))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The commit of a pending object inside `tx` (see
/// [`Store::commit_object`](super::Store::commit_object)): sets its sizes,
/// metadata and segment offsets, makes it visible and deletes the older
/// committed versions of its key. `None` (nothing changed) if no pending
/// object has this stream id. Also clears the multipart deadline.
pub(crate) async fn commit_pending(
    tx: &mut Transaction<'static, Any>,
    stream_id: &[u8; 16],
    values: &CommitValues,
) -> Result<Option<Committed>, StoreError> {
    let r = sqlx::query(
        "UPDATE objects SET status = $1, segment_count = $2, plain_size = $3, \
         encrypted_size = $4, encrypted_metadata = $5, encrypted_metadata_nonce = $6, \
         encrypted_metadata_key = $7, multipart_deadline = 0 WHERE stream_id = $8 AND status = $9",
    )
    .bind(ObjectStatus::Committed.as_i64())
    .bind(values.segment_count)
    .bind(values.plain_size)
    .bind(values.encrypted_size)
    .bind(values.encrypted_metadata.clone())
    .bind(values.encrypted_metadata_nonce.clone())
    .bind(values.encrypted_metadata_key.clone())
    .bind(stream_id.to_vec())
    .bind(ObjectStatus::Pending.as_i64())
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() == 0 {
        return Ok(None);
    }
    for (pos, offset) in &values.plain_offsets {
        sqlx::query("UPDATE segments SET plain_offset = $1 WHERE stream_id = $2 AND position = $3")
            .bind(*offset)
            .bind(stream_id.to_vec())
            .bind(pos.encode())
            .execute(&mut **tx)
            .await?;
    }
    let object = select_object(&mut **tx, stream_id, "")
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    let older: Vec<Vec<u8>> = sqlx::query(
        "SELECT stream_id FROM objects WHERE project_id = $1 AND bucket = $2 \
         AND encrypted_key = $3 AND status = $4 AND stream_id <> $5",
    )
    .bind(object.project_id.to_vec())
    .bind(object.bucket.clone())
    .bind(object.encrypted_key.clone())
    .bind(ObjectStatus::Committed.as_i64())
    .bind(stream_id.to_vec())
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.try_get("stream_id"))
    .collect::<Result<_, _>>()?;
    let replaced_pieces = delete_streams(tx, &older).await?;
    Ok(Some(Committed {
        object,
        replaced_pieces,
    }))
}
