/**
 * The ingest contract in DuckDB SQL, for the benchmark's reference run. It
 * reads files laid out as scripts/generate-listings.mjs writes them (the
 * seven columns in that order, at most one surplus field), which lets plain
 * `read_csv` with a spare column stand in for the contract's field counting.
 */

const WHITESPACE = "' ' || chr(9) || chr(13) || chr(10) || chr(160)"

/**
 * SQL statements that produce the contract's counts and `out` Parquet.
 *
 * @param parallelCsv - DuckDB's parallel CSV reader; it refuses some files
 *   (null padding with a quoted line break near a split point), which are
 *   then read with `parallel = false`
 */
export function contractSql(
  listings: string,
  lookup: string,
  parquetOut: string,
  parallelCsv = true,
): string[] {
  const t = (column: string) => `trim(coalesce(${column}, ''), ${WHITESPACE})`
  return [
    `CREATE TEMP TABLE raw AS SELECT * FROM read_csv('${listings}', header = false, skip = 1, delim = ',', quote = '"', escape = '"',
       columns = {'c1': 'VARCHAR', 'c2': 'VARCHAR', 'c3': 'VARCHAR', 'c4': 'VARCHAR', 'c5': 'VARCHAR', 'c6': 'VARCHAR', 'c7': 'VARCHAR', 'c8': 'VARCHAR'},
       null_padding = true, strict_mode = false, nullstr = '\u0001', auto_detect = false${parallelCsv ? '' : ', parallel = false'})`,
    `CREATE TEMP TABLE rows AS
       SELECT rowid AS rn, ${t('c1')} AS date, ${t('c2')} AS seller_id, ${t('c3')} AS region, ${t('c4')} AS category,
              ${t('c5')} AS item_id, ${t('c6')} AS price, c8 IS NOT NULL AS too_long
       FROM raw
       WHERE NOT (c2 IS NULL AND c3 IS NULL AND ${t('c1')} = '')`,
    `CREATE TEMP TABLE classified AS
       SELECT *, CASE
         WHEN too_long THEN 'too_many_fields'
         WHEN date = '' OR seller_id = '' OR region = '' OR category = '' OR item_id = '' OR price = '' THEN 'missing_field'
         WHEN NOT regexp_full_match(date, '[0-9]{4}-[0-9]{2}-[0-9]{2}') OR try_strptime(date, '%Y-%m-%d') IS NULL THEN 'invalid_date'
         WHEN NOT regexp_full_match(price, '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?') THEN 'non_numeric_price'
         WHEN try_cast(price AS DOUBLE) IS NULL OR isinf(try_cast(price AS DOUBLE)) THEN 'non_finite_price'
         WHEN try_cast(price AS DOUBLE) <= 0 THEN 'non_positive_price'
       END AS reason
       FROM rows`,
    `CREATE TEMP TABLE lookup AS
       SELECT ${t('category')} AS category, any_value(nullif(${t('segment')}, '')) AS segment
       FROM read_csv('${lookup}', header = true, all_varchar = true)
       WHERE ${t('category')} <> '' GROUP BY 1`,
    `COPY (
       SELECT CAST(v.date AS DATE) AS date, v.seller_id, v.region, v.category, v.item_id, CAST(v.price AS DOUBLE) AS price_gbp, l.segment
       FROM (SELECT * FROM classified WHERE reason IS NULL QUALIFY row_number() OVER (PARTITION BY date, item_id ORDER BY rn DESC) = 1) v
       LEFT JOIN lookup l ON v.category = l.category
       ORDER BY v.rn
     ) TO '${parquetOut}' (FORMAT parquet, COMPRESSION snappy)`,
  ]
}

/** SQL for the five contract counts, after {@link contractSql} ran. */
export function countsSql(parquetOut: string): string {
  return `SELECT
      (SELECT count(*) FROM classified)::BIGINT AS source_rows,
      (SELECT count(*) FROM classified WHERE reason IS NULL)::BIGINT AS valid_rows_after_clean,
      (SELECT count(*) FROM '${parquetOut}')::BIGINT AS rows_after_dedup,
      (SELECT count(*) FROM classified WHERE reason IN ('too_many_fields', 'missing_field', 'invalid_date'))::BIGINT AS dropped_missing_required,
      (SELECT count(*) FROM classified WHERE reason IN ('non_numeric_price', 'non_finite_price', 'non_positive_price'))::BIGINT AS dropped_non_positive_price`
}
