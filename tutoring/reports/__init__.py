"""Program report: yearly figures, charts and exports."""
