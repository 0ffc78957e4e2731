-- Paper trading, part 2 (issue 22): trade ideas members share, comments on them, and whom each
-- member follows (their feed). Authors appear by their trading profile's display name only. Staff
-- with trading.manage hide an idea or a comment with a reason (audited); nothing is deleted.
CREATE TABLE trading_ideas (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    symbol text NOT NULL CHECK (symbol ~ '^[A-Z0-9][A-Z0-9.\-]{0,15}$'),
    direction text NOT NULL CHECK (direction IN ('long', 'short', 'neutral')),
    thesis text NOT NULL CHECK (length(thesis) BETWEEN 1 AND 2000),
    -- The author's own paper order the idea stands on: its outcome shows once it fills.
    order_id uuid REFERENCES trading_orders (id),
    created_at timestamptz NOT NULL,
    hidden_at timestamptz,
    hidden_reason text CHECK (length(hidden_reason) BETWEEN 1 AND 500),
    hidden_by uuid,
    CHECK ((hidden_at IS NULL) = (hidden_reason IS NULL) AND (hidden_at IS NULL) = (hidden_by IS NULL))
);
CREATE INDEX trading_ideas_recent ON trading_ideas (created_at DESC, id DESC);
CREATE INDEX trading_ideas_author ON trading_ideas (member_id, created_at DESC, id DESC);

CREATE TABLE trading_idea_comments (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    idea_id uuid NOT NULL REFERENCES trading_ideas (id),
    member_id uuid NOT NULL REFERENCES members (id),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    created_at timestamptz NOT NULL,
    hidden_at timestamptz,
    hidden_reason text CHECK (length(hidden_reason) BETWEEN 1 AND 500),
    hidden_by uuid,
    CHECK ((hidden_at IS NULL) = (hidden_reason IS NULL) AND (hidden_at IS NULL) = (hidden_by IS NULL))
);
CREATE INDEX trading_idea_comments_idea ON trading_idea_comments (idea_id, created_at, id);

CREATE TABLE trading_follows (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    follower_id uuid NOT NULL REFERENCES members (id),
    followed_id uuid NOT NULL REFERENCES members (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (follower_id, followed_id),
    CHECK (follower_id <> followed_id)
);
CREATE INDEX trading_follows_followed ON trading_follows (followed_id);
