"""boto 2's security-token path: fetch temporary credentials with STS
GetSessionToken (boto.sts, through the boto config's proxy), then use them
(access key, secret, session token) with boto.dynamodb. Prints OK."""
import boto.dynamodb
import boto.sts

sts = boto.sts.connect_to_region("us-east-1", aws_access_key_id="AKIDEXAMPLE",
                                 aws_secret_access_key="secret")
creds = sts.get_session_token(duration=3600)
assert creds.access_key.startswith("ASIA") and creds.session_token, vars(creds)
conn = boto.dynamodb.connect_to_region("us-east-1", aws_access_key_id=creds.access_key,
                                       aws_secret_access_key=creds.secret_key,
                                       security_token=creds.session_token)
schema = conn.create_schema(hash_key_name="id", hash_key_proto_value=str)
t = conn.create_table("sts-table", schema, 1, 1)
t.new_item("a", attrs={"v": 1}).put()
assert t.get_item("a")["v"] == 1
print("OK")
