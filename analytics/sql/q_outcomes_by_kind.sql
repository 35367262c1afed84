-- grain: one row per outcome kind: summed quantity
SELECT kind, sum(quantity) AS quantity FROM outcomes GROUP BY kind ORDER BY kind;
