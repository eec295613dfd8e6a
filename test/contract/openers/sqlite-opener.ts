// Opens the SQLite event store of a contract fixture in a child process; the argument is the file.
import { SqliteEventStore } from '../../../src/storage/sqlite/sqlite-event-store';
import type { OpenStore } from '../../support/append-in-child';

export const openStore: OpenStore = async (file) => new SqliteEventStore(file);
