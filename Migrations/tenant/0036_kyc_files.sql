-- Issue 25: KYC document images and uploads. The bytes live in the platform's document store (the state folder, or an
-- S3-compatible bucket), sealed under the tenant's data key and bound to the tenant, the member and the file; this
-- table says what each file is and where it is. A file is only ever served through an audited reveal: each reveal is a
-- row of kyc_file_reveals with its reason, written in the transaction that commits before the bytes are read.
CREATE TABLE kyc_files (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    kind text NOT NULL CHECK (kind IN ('id_front', 'id_back', 'selfie', 'proof_of_address', 'other')),
    media_type text NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')),
    size_bytes int NOT NULL CHECK (size_bytes > 0),
    sha256 bytea NOT NULL CHECK (length(sha256) = 32),
    store text NOT NULL CHECK (store IN ('local', 's3')),
    object_key text NOT NULL UNIQUE CHECK (object_key ~ '^[0-9a-z-]{1,64}(/[0-9a-z-]{1,64}){0,4}$'),
    key_id int NOT NULL REFERENCES tenant_data_keys (id),
    document_id uuid REFERENCES kyc_documents (id),
    uploaded_by uuid,
    uploaded_role text NOT NULL,
    uploaded_at timestamptz NOT NULL
);
CREATE INDEX kyc_files_member ON kyc_files (member_id, uploaded_at DESC);

CREATE TABLE kyc_file_reveals (
    tenant_id uuid NOT NULL DEFAULT (current_setting('app.tenant_id')::uuid),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_id uuid NOT NULL REFERENCES kyc_files (id),
    revealed_by uuid NOT NULL,
    revealed_role text NOT NULL,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    request_id text,
    revealed_at timestamptz NOT NULL
);
CREATE INDEX kyc_file_reveals_file ON kyc_file_reveals (file_id, revealed_at DESC);
