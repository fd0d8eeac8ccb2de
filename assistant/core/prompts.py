"""Every prompt and fixed reply the assistant uses, in one place.

The reader's and the judge's prompts put their fixed instructions first, then what stays the
same from one candidate to the next (the question; the claim), so llama.cpp keeps that prefix's
KV state and evaluates only each candidate's own tokens. Their replies are never generated:
the first token's "yes"/"no" logits are read. Keep the shared part first and identical.
"""

# --- the reader: does this sentence (after its context) answer the question? -----------------
READER_SYSTEM = """\
You check whether a passage from a document answers a question. You know nothing but the \
passage. Reply yes if its last sentence states the answer, otherwise no."""

READER_QUESTION = "{earlier}Question: {question}\n\n"
READER_PASSAGE = "Document: {title}\nPassage: {context} {sentence}"
EARLIER = "Earlier question: {question}\nEarlier answer: {answer}"

# --- the claim judge: does this quote (after its context) state the claim? --------------------
# Probed on the 1.5B model: "is it stated?" separates true from unstated or false claims
# (P(yes) 0.86-0.88 vs 0.11-0.30); "does it make the claim false?" did not (0.81 for a true one).
CLAIM_SYSTEM = """\
You check claims against evidence sentences from documents. You know nothing but the evidence. \
Answer the question with yes or no."""

CLAIM_USER = """\
Claim: {claim}

Evidence:
{evidence}

Question: does the evidence state that the claim is true? Answer yes or no."""

# --- fixed replies ------------------------------------------------------------------------------
REFUSAL = "I can't answer that from the documents: none of them says it."
REFUSAL_UNKNOWN_NAME = "I can't answer that from the documents: none of them mentions {names}."
REFUSAL_INSTRUCTIONS = "I can't answer that: it asks me to follow instructions, not a question " \
    "about the documents."
CORRECTION = "The documents say otherwise: {quote}"
NO_LEAD = "No — "
UPDATE = "Newest, {newer}: {quote} Earlier, {older}: {old_quote}"
DISAGREE = "The sources differ — {title}: {first} {other}: {second}"
FALLBACK_NOTICE = "The LLM failed ({reason}); this answer was chosen without it."
