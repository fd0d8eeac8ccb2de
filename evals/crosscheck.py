"""An external cross-check of the eval's retrieval metrics, by llama-index's `RetrieverEvaluator`.

The eval scores retrieval itself (`hit_at_k` and `mrr` in metrics.py). Here llama-index's own
`HitRate` and `MRR` (their default, non-granular forms) score `Assistant.as_retriever(k)` on
the same queries, so a slip in our rank arithmetic or pooling, or in the retriever adapter,
shows up as a disagreement. Both definitions, for an answerable row with evidence quotes E and
query q (the standalone question the answer pipeline searched with, else the question):

- eval: hits = the texts of the top k chunks `Assistant.search(q, k)` returns; rank = the first
  hit h with `e in h or h in e` for some e in E; hit_at_k = 1 if there is a rank, else 0; mrr =
  1/rank, else 0; averaged over every answerable row (a row whose question failed counts 0).
- llama-index: a dataset in `EmbeddingQAFinetuneDataset`'s shape (queries, corpus,
  relevant_docs; the class is not in llama-index-core 0.14, so `RetrievalDataset` below has its
  fields): the relevant ids of q are the node ids (`doc_id:start-end`) of the chunks among the
  top `DEPTH` that `as_retriever(DEPTH)` returns for q whose text contains some e in E.
  hit_rate = 1 if any of the top k ids `RetrieverEvaluator` retrieves is relevant, else 0;
  mrr = 1/rank of the first relevant one, else 0; averaged over the rows that have a relevant
  id (its metrics reject an empty expected set).

So the definitions differ in exactly three ways, and `disagreements` names any row they do
not explain: (1) a chunk lying wholly inside a quote counts for the eval, not for llama-index;
(2) a row with no chunk holding a quote in the top DEPTH (a quote split across chunks, or
ranked lower) is left out of llama-index's average, while the eval counts it as a miss unless
(1); (3) a row whose question failed is a miss for the eval and is not asked of llama-index.
Both sides judge relevance by the same quote containment, so this checks the arithmetic and the
adapter, not the labels. Not here: the eval's own metrics (metrics.py), report files (report.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant import AssistantError
from evals.dataset import Row

if TYPE_CHECKING:
    from assistant import Assistant

DEPTH = 50  # chunks searched for relevance labels; whole corpora up to this size are labelled


@dataclass(frozen=True)
class RetrievalDataset:
    """llama-index's `EmbeddingQAFinetuneDataset` fields: query id -> text, node id -> text,
    query id -> relevant node ids."""

    queries: dict[str, str] = field(default_factory=dict)
    corpus: dict[str, str] = field(default_factory=dict)
    relevant_docs: dict[str, list[str]] = field(default_factory=dict)


def holds_evidence(text: str, evidence: list[str]) -> bool:
    return any(quote in text for quote in evidence)


def build_dataset(bot: Assistant, queries: dict[str, str], evidence: dict[str, list[str]],
                  depth: int = DEPTH) -> tuple[RetrievalDataset, dict[str, str]]:
    """The labelled dataset, and query id -> error for the queries whose search failed."""
    deep = bot.as_retriever(k=depth)
    dataset, errors = RetrievalDataset(), {}
    for qid, query in queries.items():
        try:
            nodes = deep.retrieve(query)
        except AssistantError as exc:
            errors[qid] = f"{type(exc).__name__}: {exc}"
            continue
        dataset.queries[qid] = query
        dataset.corpus.update({n.node.node_id: n.text for n in nodes})
        dataset.relevant_docs[qid] = [n.node.node_id for n in nodes
                                      if holds_evidence(n.text, evidence[qid])]
    return dataset, errors


def crosscheck(bot: Assistant, rows: list[Row], records: list[dict[str, Any]], k: int,
               depth: int = DEPTH) -> dict[str, Any]:
    """Score `as_retriever(k)` with `RetrieverEvaluator` on the answerable rows; add each
    row's result to its record (key "llamaindex_retrieval") and return the summary part."""
    from llama_index.core.evaluation import RetrieverEvaluator

    started = time.perf_counter()
    depth = max(depth, k)
    answerable = {row.id: (row, rec) for row, rec in zip(rows, records, strict=True)
                  if row.answerable}
    queries = {rid: rec["standalone_question"] or row.question
               for rid, (row, rec) in answerable.items() if not rec["error"]}
    evidence = {rid: row.evidence for rid, (row, _) in answerable.items()}
    dataset, errors = build_dataset(bot, queries, evidence, depth)
    retriever = bot.as_retriever(k=k)
    evaluator = RetrieverEvaluator.from_metric_names(["hit_rate", "mrr"], retriever=retriever)
    scored: list[dict[str, float]] = []
    for rid, (row, rec) in answerable.items():
        expected = dataset.relevant_docs.get(rid, [])
        result: dict[str, Any] = {"query": queries.get(rid), "relevant": expected,
                                  "retrieved": [], "hit_rate": None, "mrr": None,
                                  "chunk_inside_quote": False,
                                  "error": errors.get(rid) or (rec["error"] and "the question failed")}
        if rid in dataset.queries:
            try:
                ids, texts, values = _score(evaluator, retriever, dataset.queries[rid], expected)
            except AssistantError as exc:
                result["error"] = f"{type(exc).__name__}: {exc}"
            else:
                result.update(values, retrieved=ids, chunk_inside_quote=any(
                    t in e for t in texts for e in row.evidence))
                if values:
                    scored.append(values)
        rec["llamaindex_retrieval"] = result

    def mean(name: str) -> float | None:
        return sum(s[name] for s in scored) / len(scored) if scored else None

    unlabelled = [rid for rid in answerable if rid in dataset.queries
                  and not dataset.relevant_docs[rid]]
    return {"evaluator": "llama_index.core.evaluation.RetrieverEvaluator", "k": k,
            "depth": depth, "hit_rate": mean("hit_rate"), "mrr": mean("mrr"),
            "questions": len(scored), "unlabelled": unlabelled,
            "failed": sorted(set(errors) | {r for r in answerable if answerable[r][1]["error"]}),
            "disagreements": disagreements(records, depth),
            "wall_s": round(time.perf_counter() - started, 2)}


def _score(evaluator: Any, retriever: Any, query: str, expected: list[str],
           ) -> tuple[list[str], list[str], dict[str, float]]:
    """(retrieved ids, their texts, llama-index's metric values; {} for an unlabelled query,
    which its metrics cannot score but whose chunks may still lie inside a quote)."""
    if not expected:
        nodes = retriever.retrieve(query)
        return [n.node.node_id for n in nodes], [n.text for n in nodes], {}
    found = evaluator.evaluate(query, expected)
    return found.retrieved_ids, found.retrieved_texts, found.metric_vals_dict


def disagreements(records: list[dict[str, Any]], depth: int = DEPTH) -> list[str]:
    """Rows where the eval's and llama-index's scores differ in a way (1)-(3) do not explain."""
    found = []
    for rec in records:
        li = rec.get("llamaindex_retrieval")
        if li is None or li["chunk_inside_quote"]:  # unanswerable, or explained by (1)
            continue
        hit, mrr = rec["metrics"].get("hit_at_k"), rec["metrics"].get("mrr")
        if li["hit_rate"] is None:  # (2) or (3): not scored; the eval must count a miss
            if hit:
                found.append(f"{rec['id']}: eval hit_at_k={hit} but no chunk in the top "
                             f"{depth} holds an evidence quote ({li['error'] or 'unlabelled'})")
        elif (hit, mrr) != (li["hit_rate"], li["mrr"]):
            found.append(f"{rec['id']}: eval hit_at_k={hit} mrr={mrr} vs llama-index "
                         f"hit_rate={li['hit_rate']} mrr={li['mrr']}")
    return found
