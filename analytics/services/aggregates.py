def aggregates_refresh_queue() -> bool:  # placeholder until the refresh engine lands (branch agg)
    return True
