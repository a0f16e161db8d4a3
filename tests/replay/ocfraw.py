"""Raw records of Avro object container files, for byte-for-byte comparisons.

records(path) yields (raw_bytes, decoded_dict) for each record, in file order: the
bytes exactly as they are in the (decompressed) block, split with fastavro's own
schemaless reader, independent of floorgate's reader.
"""
import io

import fastavro


def records(path):
    with open(path, "rb") as f:
        br = fastavro.block_reader(f)
        schema = fastavro.parse_schema(br.writer_schema)
        for block in br:
            data = block.bytes_.getvalue() if hasattr(block.bytes_, "getvalue") else block.bytes_
            buf = io.BytesIO(data)
            for _ in range(block.num_records):
                start = buf.tell()
                rec = fastavro.schemaless_reader(buf, schema, None)
                yield data[start:buf.tell()], rec
            if buf.tell() != len(data):
                raise ValueError(f"{path}: block has {len(data) - buf.tell()} trailing bytes")


def schema_of(path):
    with open(path, "rb") as f:
        return fastavro.block_reader(f).writer_schema
