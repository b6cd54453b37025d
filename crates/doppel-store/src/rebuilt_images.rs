//! Images rebuilt after a restore: a release's image id is the engine's id of what it runs,
//! and a backup carries no image. When a restored installation rebuilds a lost image from the
//! commit its build recorded, every build and release that named the old id names the new
//! one (staging's release and the production releases promoted from it alike, so production
//! still runs exactly what staging runs).

use crate::error::DbContext;
use crate::{Result, Store, StoreError};

impl Store {
    /// Replaces image id `old` by `new` in every build and release, in one transaction;
    /// returns how many releases changed.
    pub async fn replace_image_id(&self, old: &str, new: &str) -> Result<u64> {
        if old.is_empty() || new.is_empty() {
            return Err(StoreError::Invalid(
                "an image id cannot be empty".to_string(),
            ));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE builds SET image_id = $1 WHERE image_id = $2")
            .bind(new.to_string())
            .bind(old.to_string())
            .execute(&mut *tx)
            .await
            .ctx("replacing a rebuilt build's image")?;
        let releases = sqlx::query("UPDATE releases SET image_id = $1 WHERE image_id = $2")
            .bind(new.to_string())
            .bind(old.to_string())
            .execute(&mut *tx)
            .await
            .ctx("replacing a rebuilt release's image")?
            .rows_affected();
        tx.commit().await.ctx("committing the rebuilt image")?;
        tracing::info!(old, new, releases, "image replaced by its rebuild");
        Ok(releases)
    }
}
