"""Every prompt and fixed reply the assistant uses, in one place.

The reader's and the judge's prompts put their fixed instructions first, then what stays the
same from one candidate to the next (the question; the claim), so llama.cpp keeps that prefix's
KV state and evaluates only each candidate's own tokens. Their replies are never generated:
the first token's "yes"/"no" logits are read. Keep the shared part first and identical.
"""

# --- the reader: does this sentence (after the one before it) answer the question? -----------
# Worked examples in the fixed part teach the 1.5B model the difference between a sentence on the
# topic and one that answers; they cost nothing per question (llama.cpp keeps their KV state).
# On the dev suites they raised the reader's top pick from 44/60 to 46/58 (golden) and its
# answerable-or-not AUC with relevance from 0.83 to 0.85. The examples are invented: no eval text.
READER_SYSTEM = """You check whether a passage from a document answers a question. You know nothing but the \
passage. Reply yes if its last sentence states what the question asks for; reply no if it is only \
on the same topic, or answers a different question.

Examples:
Question: How many people will the Denver plant employ?
Passage: Acme opens its Denver plant in May. The plant will employ 400 people.
Answer: yes

Question: How many people will the Denver plant employ?
Passage: Acme opens its Denver plant in May. The plant cost $80 million to build.
Answer: no

Question: Does the warranty cover water damage?
Passage: The warranty covers parts and labour for two years. It does not cover water damage.
Answer: yes

Question: Who designed the new bridge?
Passage: The city council approved the new bridge in 2021. Construction will start next spring.
Answer: no

Question: Why did the bakery close its second shop?
Passage: Rents on Main Street doubled last year. The bakery closed its second shop because of the rent.
Answer: yes

Question: What will a monthly pass cost?
Passage: Fares change on 1 March. The monthly pass rises from $60 to $65.
Answer: yes

Question: When does the museum open on Sundays?
Passage: The museum is free on the first Sunday of each month. Guided tours start at noon.
Answer: no"""

READER_QUESTION = "{earlier}Question: {question}\n"
READER_PASSAGE = "Passage: {context} {sentence}"
EARLIER = "Earlier question: {question}\nEarlier answer: {answer}"

# --- the claim judge: does this passage (a sentence after its context) state the claim? --------
# Two questions on one passage, sharing its KV state; the judge takes the mean of P(yes) and
# P(true). On the dev claims (replayed offline, each question alone as its own prompt): "is it
# stated?" alone 56/72 verdicts right, the three-way question alone 53/72, their mean 57/72.
# "Does it make the claim false?" did not separate (0.81 for a true one).
CLAIM_SYSTEM = "You check a claim against a passage from a document. You know nothing but the passage."

CLAIM_USER = """\
Passage: {passage}

Claim: {claim}

{question}"""

CLAIM_STATES = "Question: does the passage state that the claim is true? Answer yes or no."
CLAIM_TRUTH = ("According to the passage, is the claim true, false, or not stated? Answer with one "
               "word: true, false or unknown.")

# --- fixed replies ------------------------------------------------------------------------------
REFUSAL = "I can't answer that from the documents: none of them says it."
REFUSAL_UNKNOWN_NAME = "I can't answer that from the documents: none of them mentions {names}."
REFUSAL_INSTRUCTIONS = "I can't answer that: it asks me to follow instructions, not a question " \
    "about the documents."
CORRECTION = "The documents say otherwise: {quote}"
NO_LEAD = "No — "
UPDATE = "Newest, {newer}: {quote} Earlier, {older} said: “{old_quote}” [{old_n}]."
DISAGREE = "The sources differ — {title}: {first} {other}: {second}"
FALLBACK_NOTICE = "The LLM failed ({reason}); this answer was chosen without it."
