Code.require_file("../T.exs", __DIR__)
Code.require_file("../worker.exs", __DIR__)

T.main(fn ->
  {:ok, sup} = Supervisor.start_link([H.spec(:a), H.spec(:b), H.spec(:c)], strategy: :one_for_all)
  before = H.pids(sup)
  Process.exit(before[:b], :kill)
  T.settle()
  T.out("changed", H.changed(before, H.pids(sup)))
end)
T.done()
