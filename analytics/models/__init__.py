from analytics.models.rfm import FM_RULE, RfmGridCell, RfmSegment
from analytics.models.runs import ChunkStatus, RunStatus, RunTrigger, ScoringChunk, ScoringRun
from analytics.models.scores import ChurnSource, MemberRecommendation, MemberScore, ScoreHistory

__all__ = [
    "FM_RULE",
    "ChunkStatus",
    "ChurnSource",
    "MemberRecommendation",
    "MemberScore",
    "RfmGridCell",
    "RfmSegment",
    "RunStatus",
    "RunTrigger",
    "ScoreHistory",
    "ScoringChunk",
    "ScoringRun",
]
